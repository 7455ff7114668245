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


def test_a_polls_posts_of_one_second_share_one_time() -> None:
    window = WindowIndex()
    second = START + timedelta(seconds=30)
    posts = [Post(id=f"q{n}", created_at=second + timedelta(microseconds=0), text=f"post {n}",
                  author=Author(id=f"a{n}")) for n in range(3)]
    assert len({id(post.created_at) for post in posts}) == 3  # decoded apart, as a platform's records are
    window.add(posts)
    held = window._detector.index.posts
    assert held["q0"].created_at is held["q1"].created_at is held["q2"].created_at
    assert [held[f"q{n}"] for n in range(3)] == posts


def test_posts_leave_the_window_by_their_own_time_whatever_order_they_came_in() -> None:
    window = WindowIndex()
    hours = [5, 1, 30, 3]  # a backfill: one batch out of time order, then later posts
    window.add([Post(id=f"h{h}", created_at=START + timedelta(hours=h), text=f"at hour {h}", author=Author(id="a"))
                for h in hours[:3]])
    assert sorted(window._detector.index.posts) == ["h30"]  # 30 h is the newest: 1 h and 5 h are past 24 h
    window.add([Post(id="h3", created_at=START + timedelta(hours=3), text="late", author=Author(id="b"))])
    assert sorted(window._detector.index.posts) == ["h30"]  # older than the window when it arrives


def test_after_a_compaction_new_posts_share_the_author_of_the_accounts_live_posts() -> None:
    window = WindowIndex()
    window.add([_post(1), _post(2)])
    window._detector.compact()  # as the window does once COMPACT_DEAD_SHARE of its nodes have no live post
    window.add([_post(3)])
    held = window._detector.index.posts
    assert held["p3"].author is held["p1"].author  # not a second copy of the account's record for the window
    assert window._detector.index._authors.keys() == {"a1"}
