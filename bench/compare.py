"""Identity check for speed work: the scan report must not change when only the speed does.

`--record` runs `python bot.py scan FILE --format json` on each file and keeps its report (minus
the timing) under bench/data/reference/, with the commit it came from; without it, each file is
scanned again and its report compared with the kept one, cluster by cluster (id, score,
accounts, posts, reasons, sample text) and the counts. Exit status 1 if any file differs.

    python bench/compare.py --record bench/data/real-100000-seed1/posts.jsonl.gz   # at the starting commit
    python bench/compare.py bench/data/real-100000-seed1/posts.jsonl.gz            # after each step
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "bench" / "data" / "reference"


def scan_report(path: Path) -> dict[str, Any]:
    """The scan report of `path` as a user gets it, without the seconds it took."""
    output = subprocess.run([sys.executable, "bot.py", "scan", str(path), "--format", "json"], cwd=ROOT,
                            check=True, capture_output=True).stdout
    report = orjson.loads(output)
    del report["stats"]["seconds"]
    return report


def _reference_path(path: Path) -> Path:
    """Where the report of `path` is kept; links are not followed, so a worktree may link bench/data."""
    return REFERENCE / (str(Path(os.path.abspath(path)).relative_to(ROOT)).replace("/", "__") + ".json")


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What differs between two reports, one line a difference (empty when identical)."""
    found = [f"stats.{key}: {expected['stats'][key]!r} -> {actual['stats'].get(key)!r}"
             for key in expected["stats"] if expected["stats"][key] != actual["stats"].get(key)]
    if len(expected["clusters"]) != len(actual["clusters"]):
        found.append(f"clusters: {len(expected['clusters'])} -> {len(actual['clusters'])}")
    for rank, (old, new) in enumerate(zip(expected["clusters"], actual["clusters"], strict=False)):
        fields = [key for key in old if old[key] != new.get(key)]
        if fields:
            found.append(f"cluster #{rank} ({old['id']}): {', '.join(fields)} differ")
    return found


def main() -> int:
    """Record or check the reports of the files named."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--record", action="store_true", help="keep these reports as the reference")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    failed = False
    for path in args.files:
        report, kept = scan_report(path), _reference_path(path)
        if args.record:
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(orjson.dumps({"commit": commit, "report": report}))
            print(f"{path}: recorded {len(report['clusters'])} clusters at {commit}")
            continue
        reference = orjson.loads(kept.read_bytes())
        found = differences(reference["report"], report)
        failed |= bool(found)
        verdict = "identical" if not found else f"{len(found)} differences"
        print(f"{path}: {verdict} to the report of {reference['commit']} ({len(report['clusters'])} clusters)")
        for line in found[:20]:
            print("  " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
