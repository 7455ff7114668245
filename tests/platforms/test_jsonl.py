"""The jsonl source: batches past a cursor lose and repeat nothing; bad input is skipped and named."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from domain.decisions import Action
from domain.models import Post
from platforms.jsonl import JsonlOutbox, JsonlSource, SourceError
from tests.conftest import record, write_jsonl


def drain(source: JsonlSource, cursor: str | None, limit: int) -> tuple[list[Post], list, str | None]:
    posts, skipped = [], []
    while True:
        batch = source.fetch(cursor, limit)
        posts += batch.posts
        skipped += batch.skipped
        cursor = batch.next_cursor
        if batch.exhausted:
            return posts, skipped, cursor


def test_batches_cover_every_post_once_even_across_restarts(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [record(f"a{i}", f"text {i}", f"u{i % 7}") for i in range(25)])
    with gzip.open(tmp_path / "b.jsonl.gz", "wb") as handle:
        handle.write(b"".join(orjson.dumps(record(f"b{i}", "x", "u1")) + b"\n" for i in range(12)))
    (tmp_path / "notes.txt").write_text("not a feed")
    seen, cursor = [], None
    while True:
        batch = JsonlSource(tmp_path).fetch(cursor, 4)  # a new source object each time: a restart
        seen += [post.id for post in batch.posts]
        cursor = batch.next_cursor
        if batch.exhausted:
            break
    assert seen == [f"a{i}" for i in range(25)] + [f"b{i}" for i in range(12)]


def test_followed_file_picks_up_appended_lines_and_waits_for_half_written_ones(tmp_path: Path) -> None:
    feed = write_jsonl(tmp_path / "feed.jsonl", [record("p1", "x", "u1")])
    source = JsonlSource(feed)
    first = source.fetch(None, 100)
    assert [p.id for p in first.posts] == ["p1"]
    with feed.open("ab") as handle:
        handle.write(orjson.dumps(record("p2", "x", "u1")) + b"\n" + orjson.dumps(record("p3", "x", "u1"))[:20])
    second = source.fetch(first.next_cursor, 100)
    assert [p.id for p in second.posts] == ["p2"]
    with feed.open("ab") as handle:
        handle.write(orjson.dumps(record("p3", "x", "u1"))[20:] + b"\n")
    third = source.fetch(second.next_cursor, 100)
    assert [p.id for p in third.posts] == ["p3"] and not third.skipped


def test_malformed_lines_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    bad_time = record("p3", "x", "u1", at="not a time")
    no_author = {"id": "p4", "created_at": "2026-02-20T06:00:00Z", "text": "x"}
    feed = write_jsonl(tmp_path / "feed.jsonl",
                       [record("p1", "x", "u1"), "{not json", bad_time, no_author, "", record("p5", "x", "u2")])
    posts, skipped, _ = drain(JsonlSource(feed), None, 100)
    assert [p.id for p in posts] == ["p1", "p5"]
    assert [s.where for s in skipped] == ["feed.jsonl:2", "feed.jsonl:3", "feed.jsonl:4"]
    assert "not valid JSON" in skipped[0].problem
    assert "created_at is not an RFC 3339 timestamp" in skipped[1].problem
    assert "author is missing" in skipped[2].problem


def test_truncated_gzip_keeps_what_was_read_and_says_where_it_broke(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(orjson.dumps(record(f"p{i}", "x" * 50, "u1")) + b"\n" for i in range(2000)))
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    posts, skipped, cursor = drain(JsonlSource(tmp_path / "cut.jsonl.gz"), None, 300)
    assert 0 < len(posts) < 2000
    assert len(skipped) == 1 and "truncated or corrupt after line" in skipped[0].problem
    again = JsonlSource(tmp_path / "cut.jsonl.gz").fetch(cursor, 300)
    assert again.posts == [] and again.exhausted  # the broken tail is not re-read forever


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        JsonlSource(tmp_path / "nope.jsonl")


def test_outbox_writes_each_key_once_across_restarts(tmp_path: Path) -> None:
    outbox = tmp_path / "actions.jsonl"
    JsonlOutbox(outbox).act(Action.SUSPEND, "u1", "spam", "d1:suspend:u1")
    result = JsonlOutbox(outbox).act(Action.SUSPEND, "u1", "spam", "d1:suspend:u1")
    JsonlOutbox(outbox).act(Action.SUSPEND, "u2", "spam", "d1:suspend:u2")
    lines = [orjson.loads(line) for line in outbox.read_bytes().splitlines()]
    assert result.ok
    assert [(line["account_id"], line["action"]) for line in lines] == [("u1", "suspend"), ("u2", "suspend")]


def test_a_file_reads_the_same_posts_as_parsing_each_record_alone(tmp_path: Path) -> None:
    from cli.scan import read_posts
    from domain.records import parse_post

    records = [record(f"p{i}", f"text {i}", f"u{i % 5}") for i in range(50)]
    records[3]["created_at"] = "2026-02-20T08:00:00+02:00"  # converted to UTC by the careful path
    records[7]["id"] = 7  # a number id becomes a string
    records[9]["author"]["created_at"] = None
    posts, skipped = read_posts(write_jsonl(tmp_path / "feed.jsonl", records))
    assert skipped == [] and posts == [parse_post(r) for r in records]
