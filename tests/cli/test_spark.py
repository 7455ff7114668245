"""`scan --engine spark` on local[2] finds what `scan` finds: the same clusters, keys, scores, posts and skips.

The data is the randomised generator's, cut into files at arbitrary times so campaigns straddle
files (Spark's partitions: one file a task) and the 24-hour window (time chains), with hostile
lines in between; and the same posts as Parquet.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from cli.scan import ScanResult, scan
from cli.spark.engine import spark_scan
from cli.synthetic import START, generate
from detectors import DetectionSettings

pytestmark = pytest.mark.slow
HOSTILE = [b"{broken json", b'{"id": "x1", "created_at": "2026-02-20T06:00:00Z", "author": {"id": "a"}}',
           b'{"id": "x2", "created_at": "yesterday", "text": "hi", "author": {"id": "a"}}', b"[1, 2, 3]"]


@pytest.fixture(scope="module")
def spark() -> Iterator[None]:
    """One local[2] session for the module's scans, stopped at the end so the rest of the suite has the memory."""
    yield
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """The generator's posts over 48 hours in three files (two gzipped) cut at 17 h and 33 h, with hostile lines
    and a post id repeated in a later file."""
    folder = tmp_path_factory.mktemp("feed")
    records = generate(2500, seed=21).posts
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


def found(result: ScanResult) -> set[tuple]:
    return {(c.key, c.score, tuple(sorted(c.accounts)), tuple(sorted(c.posts)), tuple(c.reasons))
            for c in result.clusters}


def test_spark_finds_what_scan_finds_across_files_windows_and_hostile_lines(spark, feed) -> None:
    folder, _ = feed
    settings = DetectionSettings()
    default = scan(folder, settings)
    distributed = spark_scan(folder, settings, "local[2]")
    assert default.clusters and found(distributed) == found(default)
    assert [c.id for c in distributed.clusters] == [c.id for c in default.clusters]  # highest score first
    assert (distributed.posts, distributed.accounts) == (default.posts, default.accounts)
    assert distributed.skipped_count == default.skipped_count == len(HOSTILE) + 1
    assert {(s.where, s.problem) for s in distributed.skipped} == {(s.where, s.problem) for s in default.skipped}
    accounts = [a for c in distributed.clusters for a in c.accounts]
    assert len(accounts) == len(set(accounts))  # each account in at most one cluster


def test_a_period_and_parquet_input_give_the_same_as_scan(spark, feed, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder, records = feed
    settings = DetectionSettings()
    since, until = START + timedelta(hours=6), START + timedelta(hours=40)
    default = scan(folder, settings, since=since, until=until)
    assert found(spark_scan(folder, settings, "local[2]", since, until)) == found(default)

    parquet = tmp_path / "posts.parquet"
    pq.write_table(pa.Table.from_pylist([json.loads(orjson.dumps(r)) for r in records]), parquet)
    assert found(spark_scan(parquet, settings, "local[2]")) == found(scan(folder, settings))


def test_the_cli_writes_the_report_and_the_clusters(spark, feed, tmp_path: Path, run_cli) -> None:
    folder, _ = feed
    done = run_cli("scan", str(folder), "--engine", "spark", "--master", "local[2]", "--format", "json",
                   "--output", str(tmp_path / "out"), timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = scan(folder, DetectionSettings()).report()
    assert report["clusters"] == expected["clusters"] and report["stats"]["skipped"] == expected["stats"]["skipped"]
    written = [json.loads(line) for line in (tmp_path / "out" / "clusters.jsonl").read_text().splitlines()]
    assert [c["id"] for c in written] == [c["id"] for c in report["clusters"]]
    assert (tmp_path / "out" / "clusters.parquet").is_dir()
