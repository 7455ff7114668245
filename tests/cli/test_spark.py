"""`scan --engine spark` on local[2] finds what `scan` finds: the same clusters, keys, scores, posts and skips.

The data is the randomised generator's, cut into files at arbitrary times so campaigns straddle
files (Spark's partitions: one file a task) and the 24-hour window (time chains), with hostile
lines in between; and the same posts as Parquet. Spark runs in child processes, as a user runs it:
its JVM and gateway threads stay out of the test process.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from cli.real_text import real_users
from cli.scan import ScanResult, scan
from cli.synthetic import START, generate
from detectors import DetectionSettings
from tests.bot_process import ROOT

pytestmark = pytest.mark.slow
HOSTILE = [b"{broken json", b'{"id": "x1", "created_at": "2026-02-20T06:00:00Z", "author": {"id": "a"}}',
           b'{"id": "x2", "created_at": "yesterday", "text": "hi", "author": {"id": "a"}}', b"[1, 2, 3]"]


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """The generator's posts over 48 hours in three files (two gzipped) cut at 17 h and 33 h, with hostile lines
    and a post id repeated in a later file."""
    folder = tmp_path_factory.mktemp("feed")
    records = sorted(generate(2500, seed=21).posts + _pool_campaign(), key=lambda record: record["created_at"])
    cuts = [(START + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ") for hours in (17, 33)]
    parts: list[list[bytes]] = [[], [], []]
    for record in records:
        parts[sum(record["created_at"] >= cut for cut in cuts)].append(orjson.dumps(record))
    parts[1][5:5] = HOSTILE
    parts[2].insert(3, orjson.dumps(records[0]))  # a repeat of the first post, read later
    for number, lines in enumerate(parts):
        body = b"\n".join(lines) + b"\n"
        if number == 1:
            (folder / f"part-{number}.jsonl").write_bytes(body)
        else:
            with gzip.open(folder / f"part-{number}.jsonl.gz", "wb") as stream:
                stream.write(body)
    return folder, records


def _pool_campaign() -> list[dict]:
    """30 accounts each posting two of a pool of 20 real tweets within 3 hours: only pool ties join its messages."""
    rng = random.Random(4)
    pool = [text for user in real_users()[-400:] for text in user.texts if len(text) >= 60][:20]
    records = []
    for number in range(30):
        author = {"id": f"pool{number}", "handle": f"pool{number}", "created_at": "2025-12-01T00:00:00Z",
                  "followers_count": rng.randint(0, 50), "default_avatar": False}
        for text in rng.sample(pool, 2):
            when = START + timedelta(hours=20, minutes=rng.uniform(0, 180))
            records.append({"id": f"pool-{number}-{len(records)}", "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "text": text, "author": author, "media": [], "urls": []})
    return records


SCANS = """
import json, sys
from datetime import datetime
from pathlib import Path
from cli.spark.engine import spark_scan
from detectors import DetectionSettings
for path, since, until in json.loads(sys.argv[1]):
    result = spark_scan(Path(path), DetectionSettings(), "local[2]", since and datetime.fromisoformat(since),
                        until and datetime.fromisoformat(until))
    report = result.report()
    report["skipped"] = [[s.where, s.problem] for s in result.skipped]
    print(json.dumps(report))
"""
"""Several scans in one child process: one JVM for them all, and none left running in the test process."""


def spark_reports(*runs: tuple[Path, datetime | None, datetime | None]) -> list[dict]:
    """The reports of `spark_scan` over each (path, since, until), run in a child Python process."""
    arguments = json.dumps([[str(path), since and since.isoformat(), until and until.isoformat()]
                            for path, since, until in runs])
    done = subprocess.run([sys.executable, "-c", SCANS, arguments], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def same(spark: dict, default: ScanResult) -> None:
    """The Spark report says what scan's does: clusters in order with their accounts, posts and reasons; stats."""
    expected = default.report()
    assert spark["clusters"] and spark["clusters"] == expected["clusters"]
    drop = {"seconds"}
    assert {k: v for k, v in spark["stats"].items() if k not in drop} == \
        {k: v for k, v in expected["stats"].items() if k not in drop}


def test_spark_finds_what_scan_finds_across_files_windows_and_hostile_lines(feed) -> None:
    folder, _ = feed
    [whole] = spark_reports((folder, None, None))
    default = scan(folder, DetectionSettings())
    same(whole, default)
    assert whole["stats"]["skipped"] == len(HOSTILE) + 1
    assert sorted(map(tuple, whole["skipped"])) == sorted((s.where, s.problem) for s in default.skipped)
    accounts = [a for c in whole["clusters"] for a in c["accounts"]]
    assert len(accounts) == len(set(accounts))  # each account in at most one cluster
    [pool] = [c for c in whole["clusters"] if any(a.startswith("pool") for a in c["accounts"])]
    assert len(pool["accounts"]) >= 27 and any("co-posted" in reason for reason in pool["reasons"])


def test_the_cli_scans_parquet_over_a_period_and_writes_the_clusters(feed, tmp_path: Path, run_cli) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder, records = feed
    parquet = tmp_path / "posts.parquet"
    pq.write_table(pa.Table.from_pylist([json.loads(orjson.dumps(r)) for r in records]), parquet)
    since, until = START + timedelta(hours=6), START + timedelta(hours=40)
    done = run_cli("scan", str(parquet), "--engine", "spark", "--master", "local[2]", "--format", "json",
                   "--since", since.isoformat(), "--until", until.isoformat(), "--output", str(tmp_path / "out"),
                   timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    default = scan(folder, DetectionSettings(), since=since, until=until)
    assert report["clusters"] and report["clusters"] == default.report()["clusters"]
    assert report["stats"]["posts"] == default.posts and report["stats"]["skipped"] == 0  # Parquet has no bad lines
    written = [json.loads(line) for line in (tmp_path / "out" / "clusters.jsonl").read_text().splitlines()]
    assert [c["id"] for c in written] == [c["id"] for c in report["clusters"]]
    assert (tmp_path / "out" / "clusters.parquet").is_dir()
