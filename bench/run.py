"""Benchmark: `scan` posts/s at 100k and 1M posts, peak RSS, 10k-post polls into a 1M window, vs a ceiling.

Every figure is measured in a fresh process. `scan` runs as a user runs it (`python bot.py scan
FILE --format json`, timed from outside, parsing included); its peak RSS is the largest of the
process and the helper it forks. The ceiling reads, lower-cases and hashes every line of the same
file: no scan can be faster, so scan/ceiling says how close to it we are. Generated files are
cached in bench/data/ (gitignored); the first run writes them (about 45 s for 1M posts).

    python bench/run.py [--sizes 100000 1000000] [--poll-window 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
POLL_BATCH = 10000
POLLS = 7


def generated(size: int, seed: int) -> Path:
    """The cached generated data set of `size` posts, written on first use."""
    path = DATA / f"gen-{size}-seed{seed}" / "posts.jsonl.gz"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "cli.synthetic", str(path.parent), "--posts", str(size),
                        "--seed", str(seed)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return path


def _timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, the process or any child it waited for) and the output of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(command)} failed")
    return seconds, usage.ru_maxrss / 1024, output


def _ceiling(path: Path) -> None:
    """Read, lower-case and hash every line: the floor any scan of this file pays."""
    with gzip.open(path, "rb") as stream:
        for line in stream:
            hashlib.blake2b(line.lower(), digest_size=8).digest()


def _polls(path: Path, window: int) -> None:
    """Fill a WindowIndex with `window` posts, then time POLLS polls of POLL_BATCH posts (add + clusters)."""
    from cli.scan import read_posts
    from detectors import DetectionSettings, WindowIndex

    posts = read_posts(path)[0]
    index = WindowIndex(DetectionSettings(window_hours=48))  # the data spans a day: nothing expires
    index.add(posts[:window])
    index.clusters()
    seconds = []
    for start in range(window, min(len(posts), window + POLLS * POLL_BATCH), POLL_BATCH):
        began = time.perf_counter()
        index.add(posts[start:start + POLL_BATCH])
        index.clusters()
        seconds.append(time.perf_counter() - began)
    print(" ".join(f"{s:.4f}" for s in seconds), len(index))


def main() -> int:
    """Print scan, ceiling, RSS and poll figures, each the median of `--repeat` runs."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, path = sys.argv[2], Path(sys.argv[3])
        _ceiling(path) if kind == "ceiling" else _polls(path, int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100000, 1000000])
    parser.add_argument("--poll-window", type=int, default=1000000, help="posts in the window before polling")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {args.repeat} runs", flush=True)
    for size in args.sizes:
        path = generated(size, args.seed)
        runs = [_timed([sys.executable, "bot.py", "scan", str(path), "--format", "json"]) for _ in range(args.repeat)]
        ceilings = [_timed([sys.executable, __file__, "--child", "ceiling", str(path)])[0] for _ in range(args.repeat)]
        scan, ceiling = statistics.median(run[0] for run in runs), statistics.median(ceilings)
        print(f"scan {size:,} posts: {scan:.1f} s = {size / scan:,.0f} posts/s (target >= 50,000), "
              f"peak RSS {max(run[1] for run in runs):,.0f} MB (target <= 2,048); ceiling {size / ceiling:,.0f} "
              f"posts/s ({ceiling:.1f} s); scan/ceiling {ceiling / scan:.2f}", flush=True)
    path = generated(args.poll_window + POLLS * POLL_BATCH, args.seed)
    _, rss, output = _timed([sys.executable, __file__, "--child", "poll", str(path), str(args.poll_window)])
    *seconds, final = output.split()
    polls = [float(s) for s in seconds]
    print(f"{len(polls)} polls of {POLL_BATCH:,} posts into a window of {args.poll_window:,} -> {int(final):,} posts: "
          f"median {statistics.median(polls):.3f} s (target <= 0.5), max {max(polls):.3f} s; peak RSS {rss:,.0f} MB",
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
