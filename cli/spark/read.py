"""Reading posts into Spark: JSONL(.gz) files by the project's own reader, one file a task, or Parquet.

Bad lines are skipped and counted exactly as `scan` does (same messages, file and line); a post id
seen again is skipped as a repeat, the first read kept; `--since` / `--until` keep a period.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.spark.rows import POST_NAMES, POST_SCHEMA, micros, post_row
from domain.records import RecordError, parse_post
from platforms.base import Skipped
from platforms.jsonl import post_files, read_blocks

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW_SCHEMA = POST_SCHEMA + ", skip_where string, skip_problem string"
"""A post, or (with the post's columns empty) a skipped line's where and problem; `order` for both."""
_EMPTY_POST = (None,) * len(POST_NAMES)
EXAMPLES = 1000
"""Skipped lines named in the result; the rest are counted."""


@dataclass(slots=True)
class ReadPosts:
    """The posts read (one row each, repeats dropped), and what was skipped: examples and the total."""

    posts: DataFrame
    skipped: list[Skipped]
    skipped_total: int


def _jsonl_rows(numbered: tuple[int, str]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(0, post row) or (1, skipped row) for each line of one file, in order."""
    number, name = numbered
    path = Path(name)
    for block in read_blocks(path):
        for line_no, record in zip(block.line_numbers, block.records, strict=True):
            order = (number << 32) | line_no
            if isinstance(record, Skipped):
                yield 1, (record.where, record.problem, order)
            else:
                yield 0, post_row(record, order)


def _parquet_rows(rows: Iterator[Any]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Parquet rows in the post format, checked by the same parser as JSONL lines."""
    for row in rows:
        record = row.asDict(recursive=True)
        order = record.pop("__order")
        where = f"{record.pop('__file').rsplit('/', 1)[-1]}:row {order & 0xFFFFFFFF}"
        for key in ("created_at",):
            if isinstance(record.get(key), datetime):
                record[key] = record[key].isoformat()
        author = record.get("author")
        if isinstance(author, dict) and isinstance(author.get("created_at"), datetime):
            author["created_at"] = author["created_at"].isoformat()
        try:
            yield 0, post_row(parse_post(record), order)
        except RecordError as error:
            yield 1, (where, str(error), order)


def _tag_row(item: tuple[int, tuple[Any, ...]]) -> tuple[Any, ...]:
    """A tagged record as a ROW_SCHEMA row."""
    kind, values = item
    if kind == 0:
        return (*values, None, None)
    where, problem, order = values
    return (*_EMPTY_POST[:-1], order, where, problem)


def _is_parquet(location: str) -> bool:
    """Whether `read_posts` reads `location` as Parquet: a URL, a .parquet file, or a folder holding them."""
    path = Path(location)
    return "://" in location or path.suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet")))


def input_bytes(location: str) -> int:
    """Bytes of the local files `read_posts` would read (0 for a URL: the cluster knows its own data)."""
    path = Path(location)
    if "://" in location or not path.exists():
        return 0
    files = list(path.rglob("*.parquet")) if path.is_dir() and _is_parquet(location) else post_files(path)
    return sum(file.stat().st_size for file in files)


def read_posts(spark: SparkSession, location: str, since: datetime | None, until: datetime | None) -> ReadPosts:
    """The posts of a file or folder (JSONL, JSONL.gz or Parquet), as POST_SCHEMA rows.

    A URL (`hdfs://`, `s3a://`, ...) is read as Parquet by Spark itself; a local path (also a shared
    file system every executor mounts) may hold either.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    files: list[str] = []
    path = Path(location)
    if _is_parquet(location):
        frame = spark.read.parquet(location)
        frame = frame.withColumn("__file", F.input_file_name()).withColumn(
            "__order", F.monotonically_increasing_id())
        tagged = frame.rdd.mapPartitions(_parquet_rows)
    else:
        files = [str(file) for file in post_files(path)]
        tagged = spark.sparkContext.parallelize(list(enumerate(files)), max(1, len(files))).flatMap(_jsonl_rows)

    def where(order: int, given: str) -> str:
        """`file:line` of a repeated post (the line's file is the order's high half)."""
        if given != "repeat":
            return given
        return f"{Path(files[order >> 32]).name}:{order & 0xFFFFFFFF}" if files else f"row {order}"

    rows = spark.createDataFrame(tagged.map(_tag_row), ROW_SCHEMA, verifySchema=False).persist()
    posts = rows.filter("skip_where IS NULL").drop("skip_where", "skip_problem")
    bad = rows.filter("skip_where IS NOT NULL").select(F.col("skip_where").alias("where"),
                                                        F.col("skip_problem").alias("problem"), "order")
    first = Window.partitionBy("post_id").orderBy("order")
    ranked = posts.withColumn("__rank", F.row_number().over(first)).persist()
    repeats = ranked.filter("__rank > 1").select(
        F.lit("repeat").alias("where"), F.concat(F.lit("repeats post id '"), "post_id", F.lit("'")).alias("problem"),
        "order")
    kept = ranked.filter("__rank = 1").drop("__rank")
    if since is not None:
        kept = kept.filter(F.col("created_us") >= micros(since))
    if until is not None:
        kept = kept.filter(F.col("created_us") < micros(until))
    skipped = bad.unionByName(repeats)
    total = skipped.count()
    examples = [Skipped(where(row.order, row.where), row.problem)
                for row in skipped.orderBy("order").limit(EXAMPLES).collect()]
    return ReadPosts(kept.persist(), examples, total)
