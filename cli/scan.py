"""Offline detection over a file of posts: the `scan` verb's report (docs/formats.md) and its table."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, TextIO

from detectors import DetectionSettings, detect
from detectors.bulk import gc_paused
from detectors.index import share_repeats
from detectors.parallel import worker_pool
from detectors.scoring import human_span
from detectors.texts import PreparedTexts
from domain.models import Author, Cluster, Post
from platforms.base import Skipped
from platforms.jsonl import post_files, read_blocks


@dataclass(slots=True)
class ScanResult:
    """Clusters found in a file, the posts and accounts read, and what was skipped."""

    clusters: list[Cluster]
    posts: int
    accounts: int
    skipped: list[Skipped]
    seconds: float
    skipped_total: int | None = None
    """Lines skipped in all, when `skipped` names only the first of them (the Spark engine)."""

    @property
    def skipped_count(self) -> int:
        """How many lines were skipped."""
        return len(self.skipped) if self.skipped_total is None else self.skipped_total

    def report(self) -> dict[str, Any]:
        """The cluster report of docs/formats.md, as a JSON-ready dict."""
        return {
            "clusters": [
                {"id": c.id, "score": c.score, "accounts": c.accounts, "posts": c.posts, "reasons": c.reasons,
                 "sample_text": c.sample_text}
                for c in self.clusters
            ],
            "stats": {"posts": self.posts, "accounts": self.accounts, "seconds": round(self.seconds, 3),
                      "skipped": self.skipped_count},
        }


_ID, _TEXT = attrgetter("id"), attrgetter("text")
PROGRESS_LINES = 10000
"""Progress is reported every this many lines."""


def read_posts(
    path: Path, progress: Callable[[int, int], None] | None = None,
    texts_read: Callable[[Iterable[str]], None] | None = None,
) -> tuple[list[Post], list[Skipped]]:
    """All posts of a file or folder; bad lines and repeated ids are skipped and named.

    `texts_read`, if given, is handed the texts of each block's posts as soon as they are kept, so
    over the whole read it sees the texts of the posts returned, in their order.
    """
    posts: dict[str, Post] = {}
    skipped: list[Skipped] = []
    authors: dict[str, Author] = {}
    times: dict[datetime, datetime] = {}
    with gc_paused():
        for file in post_files(path):
            for block in read_blocks(file):
                records = share_repeats(block.records, authors, times) if block.plain else []  # type: ignore[arg-type]
                fresh = dict(zip(map(_ID, records), records, strict=True))
                if block.plain and len(fresh) == len(records) and posts.keys().isdisjoint(fresh):
                    if progress:  # one post a line: the count at every 10,000th line is known
                        first = block.line_numbers[0]
                        for line_no in range(-(-first // PROGRESS_LINES) * PROGRESS_LINES, first + len(fresh),
                                             PROGRESS_LINES):
                            progress(len(posts) + line_no - first + 1, len(skipped))
                    posts.update(fresh)  # the common case: a block of new, distinct posts
                    if texts_read:
                        texts_read(map(_TEXT, records))
                    continue
                kept = []
                for line_no, record in zip(block.line_numbers, block.records, strict=True):
                    if type(record) is Skipped:
                        skipped.append(record)
                    elif record.id in posts:
                        skipped.append(Skipped(f"{file.name}:{line_no}", f"repeats post id {record.id!r}"))
                    else:
                        posts[record.id] = share_repeats([record], authors, times)[0]  # type: ignore[list-item]
                        kept.append(record.text)
                    if progress and line_no % PROGRESS_LINES == 0:
                        progress(len(posts), len(skipped))
                if texts_read:
                    texts_read(kept)
    return list(posts.values()), skipped


def scan(path: Path, settings: DetectionSettings, progress: Callable[[int, int], None] | None = None,
         since: datetime | None = None, until: datetime | None = None) -> ScanResult:
    """Read `path` and detect clusters at `settings`, among the posts created in [since, until) when given.

    The texts are normalised and MinHashed by a pool of worker processes while the file is still being read.
    """
    started = time.perf_counter()
    pool = worker_pool()
    try:
        with PreparedTexts(pool) as prepared:
            posts, skipped = read_posts(path, progress, prepared.add)
            if since is not None or until is not None:
                posts = [post for post in posts if (since is None or post.created_at >= since)
                         and (until is None or post.created_at < until)]
                clusters = detect(posts, settings)  # the texts were prepared for every post read
            else:
                clusters = detect(posts, settings, prepared)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    accounts = len(set(map(attrgetter("author.id"), posts)))
    return ScanResult(clusters, len(posts), accounts, skipped, time.perf_counter() - started)


def terminal_progress(stream: TextIO = sys.stderr) -> Callable[[int, int], None] | None:
    """A progress line for long files, only when `stream` is a terminal."""
    if not stream.isatty():
        return None
    last = [0.0]

    def show(posts: int, skipped: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25:
            last[0] = now
            stream.write(f"\rread {posts:,} posts ({skipped:,} skipped)…")
            stream.flush()

    return show


def render_table(result: ScanResult) -> str:
    """The report as a readable table, one cluster a block, highest score first."""
    lines = [f"{len(result.clusters)} clusters in {result.posts:,} posts from {result.accounts:,} accounts "
             f"({result.skipped_count:,} skipped) in {result.seconds:.1f} s", ""]
    if result.clusters:
        lines.append(f"{'cluster':<13} {'score':>5} {'accounts':>8} {'posts':>6} {'span':>8}  sample")
    for cluster in result.clusters:
        sample = " ".join(cluster.sample_text.split())
        lines.append(f"{cluster.id:<13} {cluster.score:>5.2f} {len(cluster.accounts):>8} {len(cluster.posts):>6} "
                     f"{human_span(cluster.span_seconds):>8}  {sample[:60]}")
        lines.extend(f"{'':>13}   - {reason}" for reason in cluster.reasons)
    return "\n".join(lines)
