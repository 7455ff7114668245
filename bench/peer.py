"""Run the peer, coordination-network-toolkit, on a labelled post file and score what it links.

Needs `pip install coordination-network-toolkit` (not a project dependency). Posts go in through
the toolkit's own `preprocess_data` (its CSV reader turns an empty URL column into the URL "",
which links every link-less post in co_link). Each network is computed by its `compute_networks`
command and read back with its `get_edge_rows` (user id pairs with weight >= 2, self-loops left
out): its `--output_file` default is GraphML, and its CSV export fails in 1.5.2 (`n_messages`).
Linked accounts are grouped into connected components and scored with the labels as `bot.py eval`
scores clusters.

    python bench/peer.py POSTS --labels labels.csv [--networks co_tweet:60 ...] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from coordination_network_toolkit.graph import get_edge_rows
from coordination_network_toolkit.preprocess import preprocess_data

from cli.evaluate import CAUGHT_SHARE, Evaluation, read_labels, score_clusters
from cli.scan import read_posts
from domain.models import Cluster

NETWORKS = [("co_tweet", 60), ("co_tweet", 3600), ("co_similar_tweet", 60), ("co_similar_tweet", 3600),
            ("co_link", 60), ("co_link", 3600)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def run_within(command: list[str], timeout: float) -> bool:
    """Run the peer's command; past `timeout` stop it and its worker processes and return False."""
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          start_new_session=True) as process:
        try:
            _, errors = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return False
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[2:5])} failed: {errors.decode(errors='replace')[-2000:]}")
    return True


def linked_components(edges: list[tuple[str, str]]) -> list[list[str]]:
    """Connected components of the peer's edge list: its accounts grouped as one network each."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        groups[find(node)].append(node)
    return list(groups.values())


def as_clusters(components: list[list[str]]) -> list[Cluster]:
    """Components in the shape `score_clusters` reads (only the accounts matter)."""
    return [Cluster(key=str(i), score=1.0, accounts=accounts, posts=[], reasons=[], sample_text="",
                    first_seen=EPOCH, last_seen=EPOCH) for i, accounts in enumerate(components)]


def summary(result: Evaluation) -> str:
    """One line: flagged, precision, recall, campaigns caught, hard-negative accounts flagged."""
    line = (f"{result.flagged} accounts linked, {result.true_positives} coordinated "
            f"(precision {result.precision:.3f}, recall {result.recall:.3f})")
    if result.campaigns:
        caught = sum(flagged >= CAUGHT_SHARE * total for total, flagged, _ in result.campaigns.values())
        hard = sum(flagged for _, flagged in result.hard_negatives.values())
        line += f", campaigns caught {caught}/{len(result.campaigns)}, hard-negative accounts flagged {hard}"
    return line


def main() -> int:
    """Preprocess once, compute each network, print linked accounts and their precision per network."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", type=Path)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--networks", nargs="*", default=[f"{n}:{w}" for n, w in NETWORKS])
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one network may take")
    args = parser.parse_args()
    labels = read_labels(args.labels)
    posts = read_posts(args.posts)[0]
    with tempfile.TemporaryDirectory() as scratch:
        db = str(Path(scratch) / "peer.db")
        started = time.perf_counter()
        preprocess_data(db, ((p.id, p.author.id, p.author.handle, p.repost_of or "", p.reply_to or "", p.text,
                              (p.created_at - EPOCH).total_seconds(), list(p.urls)) for p in posts))
        print(f"peer preprocess of {len(posts):,} posts: {time.perf_counter() - started:.1f} s", flush=True)
        for spec in args.networks:
            network, window = spec.split(":")
            started = time.perf_counter()
            command = ["compute_networks", db, "compute", network, "--time_window", window,
                       "--min_edge_weight", "2", "--n_cpus", "2"]
            if not run_within(command, args.timeout):
                print(f"peer {network} {window} s: not finished within {args.timeout:.0f} s", flush=True)
                continue
            seconds = time.perf_counter() - started
            edges = [(str(row[0]), str(row[1])) for row in get_edge_rows(db, network)]
            result = score_clusters(as_clusters(linked_components(edges)), labels, seconds)
            print(f"peer {network} {window} s: {summary(result)}; {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
