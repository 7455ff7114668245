"""Benchmark: scan posts/s at several sizes, peak RSS, 10k-poll latency on a full window, vs a ceiling.

Each measurement runs in a fresh subprocess so peak RSS belongs to it alone.

    python bench/run.py --sizes 100000 1000000 --poll-window 1000000
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chorus.synthetic import generate, write


def _ceiling(path: Path) -> float:
    """Seconds to read, lower-case and hash every line: the floor any scan must pay."""
    started = time.perf_counter()
    with gzip.open(path, "rb") as stream:
        for line in stream:
            hashlib.blake2b(line.lower(), digest_size=8).digest()
    return time.perf_counter() - started


def _scan(path: Path) -> float:
    from chorus.scan import read_posts
    from detectors import detect

    started = time.perf_counter()
    detect(read_posts(path)[0])
    return time.perf_counter() - started


def _poll(path: Path, batch: int, polls: int) -> list[float]:
    from chorus.scan import read_posts
    from detectors import DetectionSettings, WindowIndex

    posts = read_posts(path)[0]
    window, tail = posts[: len(posts) - batch * polls], posts[len(posts) - batch * polls:]
    index = WindowIndex(DetectionSettings(window_hours=48))
    index.add(window)
    index.clusters()
    latencies = []
    for start in range(0, len(tail), batch):
        began = time.perf_counter()
        index.add(tail[start:start + batch])
        index.clusters()
        latencies.append(time.perf_counter() - began)
    return latencies


def _child(kind: str, path: Path, batch: int, polls: int) -> None:
    result = {"ceiling": _ceiling, "scan": _scan}.get(kind)
    value = result(path) if result else statistics.median(_poll(path, batch, polls))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{value:.3f} {rss_mb:.0f}")


def _measure(kind: str, path: Path, batch: int = 10000, polls: int = 5) -> tuple[float, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path), str(batch), str(polls)],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    """Generate data per size, then print scan, ceiling, RSS and poll figures."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100000, 1000000])
    parser.add_argument("--poll-window", type=int, default=1000000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for size in sorted({*args.sizes, args.poll_window}):
            path = write(Path(scratch) / str(size), *generate(size, args.seed))
            if size in args.sizes:
                scan, rss = _measure("scan", path)
                ceiling, _ = _measure("ceiling", path)
                print(f"scan {size} posts: {scan:.1f} s = {size / scan:,.0f} posts/s, "
                      f"peak RSS {rss:,.0f} MB; "
                      f"ceiling {size / ceiling:,.0f} posts/s; scan/ceiling {ceiling / scan:.2f}", flush=True)
            if size == args.poll_window:
                poll, rss = _measure("poll", path)
                print(f"poll of 10k into a {size - 50000:,}-post window: median {poll:.2f} s "
                      f"(peak RSS {rss:,.0f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
