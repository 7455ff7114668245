"""Run the peer, coordination-network-toolkit, on a labelled post file and score the accounts it links.

Needs `pip install coordination-network-toolkit` (not a project dependency).

    python bench/peer.py POSTS --labels labels.csv
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import tempfile
import time
from pathlib import Path

from chorus.evaluate import read_labels
from chorus.scan import read_posts

NETWORKS = [("co_tweet", 60), ("co_tweet", 3600), ("co_similar_tweet", 60), ("co_similar_tweet", 3600),
            ("co_link", 60), ("co_link", 3600)]


def main() -> int:
    """Preprocess once, compute each network, print flagged accounts and precision per network."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", type=Path)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--networks", nargs="*", default=[f"{n}:{w}" for n, w in NETWORKS])
    args = parser.parse_args()
    labels = read_labels(args.labels)
    with tempfile.TemporaryDirectory() as scratch:
        table, db = Path(scratch) / "posts.csv", Path(scratch) / "peer.db"
        with table.open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["message_id", "user_id", "username", "repost_id", "reply_id", "message",
                             "timestamp", "urls"])
            for post in read_posts(args.posts)[0]:
                writer.writerow([post.id, post.author.id, post.author.handle, post.repost_of or "",
                                 post.reply_to or "", post.text,
                                 int(post.created_at.timestamp()), " ".join(post.urls)])
        started = time.perf_counter()
        subprocess.run(["compute_networks", str(db), "preprocess", "--format", "csv", str(table)],
                       check=True, capture_output=True)
        print(f"peer preprocess: {time.perf_counter() - started:.1f} s", flush=True)
        for spec in args.networks:
            network, window = spec.split(":")
            out = Path(scratch) / f"{network}-{window}.csv"
            started = time.perf_counter()
            subprocess.run(["compute_networks", str(db), "compute", network, "--time_window", window,
                            "--min_edge_weight", "2", "--n_cpus", "2", "--output_file", str(out)],
                           check=True, capture_output=True)
            seconds = time.perf_counter() - started
            with out.open(newline="") as stream:
                rows = [row for row in list(csv.reader(stream))[1:] if len(row) >= 2]
            accounts = {row[0] for row in rows} | {row[1] for row in rows}
            hits = sum(labels[a].coordinated for a in accounts if a in labels)
            print(f"peer {network} window {window} s: {len(accounts)} accounts flagged, {hits} coordinated "
                  f"(precision {hits / max(1, len(accounts)):.3f}), {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
