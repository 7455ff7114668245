"""Posts indexed poll by poll share their account's author record, as a scan's do."""

from datetime import UTC, datetime, timedelta

from detectors import WindowIndex
from domain.models import Author, Post

START = datetime(2026, 2, 20, tzinfo=UTC)


def _post(number: int, followers: int = 3) -> Post:
    author = Author(id="a1", handle="ann", created_at=START - timedelta(days=400), followers_count=followers)
    return Post(id=f"p{number}", created_at=START + timedelta(minutes=number), text=f"post number {number}",
                author=author)


def test_polled_posts_of_one_account_share_an_equal_author_and_keep_a_changed_one() -> None:
    window = WindowIndex()
    window.add([_post(1), _post(2)])
    window.add([_post(3), _post(4, followers=9)])
    held = window._detector.index.posts
    assert held["p1"].author is held["p2"].author is held["p3"].author
    assert held["p4"].author.followers_count == 9
    assert [held[f"p{n}"] for n in (1, 2, 3)] == [_post(1), _post(2), _post(3)]  # equal to what was polled
