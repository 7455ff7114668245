"""Benchmark: `scan --engine spark` on local[2] against the default engine, on real-text posts.

Builds day files of real-language posts (`bench/realtext.py`: the honeypot's legitimate tweets and
spliced ones, with campaigns), a million a day, under bench/data/spark-SIZE/ (gitignored), then runs
`bot.py scan DIR --format json` with each engine as a user would, sampling the memory of every
process it starts: the Python driver, the JVM (in local mode the driver's JVM runs the executors'
tasks too) and the Python workers Spark forks. Reports wall time, peak RSS by role, and how the
Spark report matches the default engine's (Jaccard of flagged accounts; whether every default
cluster's accounts lie in one Spark cluster).

    python bench/spark.py [--sizes 1000000 10000000] [--default-up-to 1000000] [--master local[2]]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import realtext

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
PER_DAY = 1_000_000
SAMPLE_SECONDS = 0.5


def posts_folder(size: int, seed: int) -> Path:
    """The cached folder of `size` real-text posts, one .jsonl.gz file a day of up to PER_DAY posts."""
    folder = DATA / f"spark-{size}-seed{seed}"
    days = -(-size // PER_DAY)
    if not (folder / f"day-{days - 1:03d}.jsonl.gz").exists():
        folder.mkdir(parents=True, exist_ok=True)
        users = realtext.load_users()
        for day in range(days):
            count = min(PER_DAY, size - day * PER_DAY)
            start = realtext.START + timedelta(days=day)
            records = realtext.records(count, seed + day, start, f"d{day}-", users)
            realtext.write(folder / f"day-{day:03d}.jsonl.gz", records)
    return folder


def _processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command name, RSS in bytes) of every process."""
    found = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text().split()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(entry)] = (int(fields[1]), name, int(statm[1]) * page)
    return found


def measured(command: list[str]) -> tuple[float, dict[str, float], str]:
    """Run `command`; wall seconds, peak RSS (MB) of the driver, the JVM and the Python workers, and stdout.

    The engine's stage timings (its INFO log lines) are printed as they were logged.
    """
    peaks = {"driver": 0.0, "jvm": 0.0, "workers": 0.0, "all": 0.0}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        while process.poll() is None:
            _sample(process.pid, peaks)
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        err.seek(0)
        logged = err.read().decode(errors="replace").splitlines()
        if process.returncode:
            tail = "\n".join(logged[-40:])
            raise RuntimeError(f"{' '.join(command)} failed with {process.returncode} after {seconds:.0f} s:\n{tail}")
        for line in logged:
            if "chorus.spark" in line:
                print("   ", line.split("chorus.spark: ", 1)[-1], flush=True)
        out.seek(0)
        return seconds, peaks, out.read().decode()


def _sample(root: int, peaks: dict[str, float]) -> None:
    """Add one reading of the memory of `root` and its descendants to `peaks` (MB by role)."""
    table = _processes()
    family, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, _) in table.items() if ppid == parent]
        family.update(children)
        frontier.extend(children)
    now = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
    for pid in family & table.keys():
        _, name, rss = table[pid]
        role = "driver" if pid == root else "jvm" if name == "java" else "workers"
        now[role] += rss / 2**20
    for role, value in now.items():
        peaks[role] = max(peaks[role], value)
    peaks["all"] = max(peaks["all"], sum(now.values()))


def compared(default: dict, spark: dict) -> tuple[float, int, int]:
    """(Jaccard of flagged accounts, default clusters, default clusters whose accounts lie in one Spark cluster)."""
    flagged_default = {a for c in default["clusters"] for a in c["accounts"]}
    flagged_spark = {a for c in spark["clusters"] for a in c["accounts"]}
    jaccard = len(flagged_default & flagged_spark) / max(1, len(flagged_default | flagged_spark))
    holder = {a: c["id"] for c in spark["clusters"] for a in c["accounts"]}
    mapped = sum(len({holder.get(a) for a in c["accounts"]}) == 1 and c["accounts"][0] in holder
                 for c in default["clusters"])
    return jaccard, len(default["clusters"]), mapped


def main(argv: list[str] | None = None) -> int:
    """Build the data, run both engines, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--default-up-to", type=int, default=1_000_000,
                        help="run the default engine too on sizes up to this (it holds every post in one process)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, master {args.master}", flush=True)
    for size in args.sizes:
        folder = posts_folder(size, args.seed)
        bot = [sys.executable, str(ROOT / "bot.py"), "scan", str(folder), "--format", "json"]
        seconds, peaks, out = measured([*bot, "--engine", "spark", "--master", args.master])
        spark = json.loads(out)
        print(f"spark {size:,} posts: {seconds:.0f} s = {size / seconds:,.0f} posts/s, "
              f"{len(spark['clusters'])} clusters; peak RSS driver {peaks['driver']:,.0f} MB, JVM "
              f"{peaks['jvm']:,.0f} MB, Python workers {peaks['workers']:,.0f} MB, all {peaks['all']:,.0f} MB",
              flush=True)
        if size <= args.default_up_to:
            seconds, peaks, out = measured(bot)
            default = json.loads(out)
            jaccard, clusters, mapped = compared(default, spark)
            print(f"default {size:,} posts: {seconds:.0f} s, {len(default['clusters'])} clusters, peak RSS "
                  f"{peaks['all']:,.0f} MB; flagged accounts Jaccard {jaccard:.3f}; {mapped} of {clusters} default "
                  f"clusters lie in one Spark cluster", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
