"""Benchmark: `scan` of 100k and 1M real-text posts against a read + lower-case + hash reference, peak RSS, polls.

Every figure is measured in a fresh process. `scan` runs as a user runs it (`python bot.py scan
FILE --format json`, timed from outside, parsing included); its peak RSS is the largest of the
process and the helpers it waited for. The reference reads, lower-cases and hashes every line of
the same file in the same run: no scan can be faster, and scan/reference is the figure that holds
on a loaded machine. Polls add 10k posts and ask for clusters into a window that already holds
`--poll-window` posts.

Files are real language by default (`bench/realtext.py`: the honeypot's legitimate users' tweets
and campaigns made of them); `--text synthetic` measures `cli.synthetic`'s randomised data too,
labelled as such. Files are cached in bench/data/ (gitignored); the first run writes them.

    python bench/run.py [--sizes 100000 1000000] [--poll-window 1000000] [--repeat 3] [--text real synthetic]
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
TARGET_RATIO = 12.0
TARGET_RSS_MB = 1536
TARGET_POLL_SECONDS = 0.3


def posts_file(text: str, size: int, seed: int) -> Path:
    """The cached post file of `size` posts of `text` ("real" or "synthetic"), written on first use."""
    if text == "real":
        path = DATA / f"real-{size}-seed{seed}" / "posts.jsonl.gz"
        command = [sys.executable, "bench/realtext.py", str(path), "--posts", str(size), "--seed", str(seed)]
    else:
        path = DATA / f"gen-{size}-seed{seed}" / "posts.jsonl.gz"
        command = [sys.executable, "-m", "cli.synthetic", str(path.parent), "--posts", str(size), "--seed",
                   str(seed)]
    if not path.exists():
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
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


def _reference(path: Path) -> None:
    """Read, lower-case and hash every line: the floor any scan of this file pays."""
    with gzip.open(path, "rb") as stream:
        for line in stream:
            hashlib.blake2b(line.lower(), digest_size=8).digest()


def _polls(path: Path, window: int) -> None:
    """Fill a WindowIndex with `window` posts, then time POLLS polls of POLL_BATCH posts (add + clusters)."""
    from cli.scan import read_posts
    from detectors import DetectionSettings, WindowIndex
    from detectors.bulk import return_freed_blocks

    return_freed_blocks()  # as `bot.py` does
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


def _scan_line(text: str, size: int, seed: int, repeat: int) -> None:
    """Scan and reference runs alternated, so both see the same load; print medians and their ratio."""
    path = posts_file(text, size, seed)
    scans, references = [], []
    for _ in range(repeat):
        scans.append(_timed([sys.executable, "bot.py", "scan", str(path), "--format", "json"]))
        references.append(_timed([sys.executable, __file__, "--child", "reference", str(path)])[0])
    scan, reference = statistics.median(run[0] for run in scans), statistics.median(references)
    ratios = [run[0] / ref for run, ref in zip(scans, references, strict=True)]  # each pair ran back to back
    rss = statistics.median(run[1] for run in scans)
    print(f"{text} text, scan {size:,} posts: {scan:.1f} s = {size / scan:,.0f} posts/s; reference {reference:.2f} s; "
          f"scan/reference {statistics.median(ratios):.1f}x (runs {', '.join(f'{r:.1f}' for r in ratios)}; "
          f"target <= {TARGET_RATIO:g}x); peak RSS {rss:,.0f} MB (max {max(run[1] for run in scans):,.0f}; "
          f"target <= {TARGET_RSS_MB:,})", flush=True)


def _poll_line(text: str, window: int, seed: int, repeat: int) -> None:
    """Print the median poll of `repeat` fresh processes' POLLS polls each, and their peak RSS."""
    path = posts_file(text, window + POLLS * POLL_BATCH, seed)
    polls, peaks = [], []
    for _ in range(repeat):
        _, rss, output = _timed([sys.executable, __file__, "--child", "poll", str(path), str(window)])
        *seconds, final = output.split()
        polls.extend(float(s) for s in seconds)
        peaks.append(rss)
    print(f"{text} text, {len(polls)} polls of {POLL_BATCH:,} posts into a window of {window:,} -> {int(final):,}: "
          f"median {statistics.median(polls):.3f} s (target <= {TARGET_POLL_SECONDS}), max {max(polls):.3f} s; "
          f"peak RSS {statistics.median(peaks):,.0f} MB", flush=True)


def main() -> int:
    """Print scan, reference, RSS and poll figures, each the median of `--repeat` runs."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, path = sys.argv[2], Path(sys.argv[3])
        _reference(path) if kind == "reference" else _polls(path, int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100000, 1000000])
    parser.add_argument("--poll-window", type=int, default=1000000, help="posts in the window before polling (0: none)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--text", nargs="+", choices=["real", "synthetic"], default=["real"])
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f} at start; "
          f"medians of {args.repeat} runs", flush=True)
    for text in args.text:
        for size in args.sizes:
            _scan_line(text, size, args.seed, args.repeat)
        if args.poll_window:
            _poll_line(text, args.poll_window, args.seed, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
