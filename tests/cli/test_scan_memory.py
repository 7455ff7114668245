"""A scan's posts share what repeats (an account's author record, a post time) without changing any post."""

from pathlib import Path

import orjson

from cli.scan import read_posts
from detectors.bulk import return_freed_blocks
from domain.records import decode_post
from tests.conftest import write_jsonl

AUTHOR = {"id": "a1", "handle": "ann", "created_at": "2025-01-01T00:00:00Z", "followers_count": 3}


def _record(number: int, author: dict, when: str = "2026-02-20T06:00:00Z") -> dict:
    return {"id": f"p{number}", "created_at": when, "text": f"post {number}", "author": author}


def test_posts_of_one_account_share_its_author_and_equal_times_share_one_object(tmp_path: Path) -> None:
    changed = {**AUTHOR, "followers_count": 4}  # a later snapshot of the same account
    records = [_record(1, AUTHOR), _record(2, AUTHOR), _record(3, changed), _record(4, {**AUTHOR, "id": "a2"})]
    posts, skipped = read_posts(write_jsonl(tmp_path / "feed.jsonl", records))
    assert not skipped
    assert posts == [decode_post(orjson.dumps(record)) for record in records]  # nothing about a post changes
    assert posts[0].author is posts[1].author
    assert posts[2].author is not posts[0].author and posts[2].author.followers_count == 4
    assert len({id(post.created_at) for post in posts}) == 1


def test_sharing_also_holds_for_blocks_with_bad_lines_and_repeated_ids(tmp_path: Path) -> None:
    records = [_record(1, AUTHOR), "{broken", _record(1, AUTHOR), _record(2, AUTHOR, "2026-02-20T07:00:00Z")]
    posts, skipped = read_posts(write_jsonl(tmp_path / "feed.jsonl", records))
    assert [post.id for post in posts] == ["p1", "p2"] and len(skipped) == 2
    assert posts[0].author is posts[1].author and posts[0].created_at != posts[1].created_at


def test_the_allocator_setting_can_be_made_more_than_once() -> None:
    return_freed_blocks()
    return_freed_blocks()
