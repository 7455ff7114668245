"""Post records: valid ones round-trip; each kind of bad record is refused with the field named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.records import RecordError, parse_post, post_to_record
from tests.conftest import record


def test_valid_record_round_trips_with_optional_fields() -> None:
    raw = record("p1", "hello", "a1", media=[{"url": "https://x/1.png", "sha256": "ab", "phash": "ff00"}],
                 urls=["https://example.org"], lang="en", unknown_field={"ignored": True})
    post = parse_post(raw)
    assert post.created_at == datetime(2026, 2, 20, 6, tzinfo=UTC)
    assert post.media[0].phash == "ff00" and post.urls == ("https://example.org",)
    assert parse_post(post_to_record(post)) == post


def test_offsets_are_converted_to_utc() -> None:
    post = parse_post(record("p1", "x", "a1", at="2026-02-20T08:00:00+02:00"))
    assert post.created_at == datetime(2026, 2, 20, 6, tzinfo=UTC)


def test_missing_author_creation_date_is_allowed() -> None:
    raw = record("p1", "x", "a1")
    raw["author"]["created_at"] = None
    assert parse_post(raw).author.created_at is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("id"), "id is missing"),
        (lambda r: r.pop("author"), "author is missing"),
        (lambda r: r["author"].pop("id"), "author.id is missing"),
        (lambda r: r.update(created_at="yesterday"), "created_at is not an RFC 3339 timestamp"),
        (lambda r: r.update(created_at="2026-02-20T06:00:00"), "created_at has no time zone"),
        (lambda r: r.update(text=None), "text is missing"),
        (lambda r: r["author"].update(followers_count="many"), "author.followers_count must be an integer"),
        (lambda r: r.update(media="pic.png"), "media must be a list"),
        (lambda r: r.update(urls=[1, 2]), "urls must be a list of strings"),
        (lambda r: r["author"].update(created_at="2026-13-01T00:00:00Z"), "author.created_at is not an RFC 3339"),
    ],
)
def test_bad_records_name_the_field(change, message: str) -> None:
    raw = record("p1", "x", "a1")
    change(raw)
    with pytest.raises(RecordError, match=message):
        parse_post(raw)


def test_a_record_must_be_an_object() -> None:
    with pytest.raises(RecordError, match="must be a JSON object"):
        parse_post(["p1", "x"])
