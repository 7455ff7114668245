"""The Discourse adapter against a fake forum on 127.0.0.1 speaking the documented API shapes."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.decisions import Action
from platforms.discourse import DiscourseEnforcer, DiscourseSource, headers
from platforms.enforcing import OnceOnly
from platforms.http import HttpClient, HttpSettings
from platforms.paging import FeedSettings
from tests.platform_server import FakeClock, FakePlatform, Reply, Request

FAST = HttpSettings(timeout_seconds=0.5, retries=2, backoff_seconds=0.01)
NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


def forum_post(post_id: int, user_id: int = 10) -> dict:
    """A post as GET /posts.json documents it (latest_posts items), trimmed to the fields used."""
    return {
        "id": post_id,
        "name": "Jo",
        "username": f"user{user_id}",
        "avatar_template": "/letter_avatar_proxy/v4/letter/u/abc/{size}.png",
        "created_at": f"2026-02-20T{6 + post_id // 60:02d}:{post_id % 60:02d}:00.000Z",
        "cooked": '<p>Vote <a href="https://example.org/x">now</a></p><img src="/uploads/1.png" class="emoji">',
        "raw": "Vote [now](https://example.org/x)",
        "post_number": 1,
        "topic_id": 3,
        "user_id": user_id,
        "post_url": f"/t/slug/3/{post_id}",
    }


class Forum:
    """Answers /posts.json like Discourse: newest first, `before` pages back, 5 per page."""

    def __init__(self, count: int) -> None:
        self.posts = [forum_post(i, 10 + i % 3) for i in range(count, 0, -1)]

    def add(self, count: int) -> list[str]:
        top = self.posts[0]["id"]
        new = [forum_post(i) for i in range(top + count, top, -1)]
        self.posts[:0] = new
        return [str(p["id"]) for p in new]

    def __call__(self, request: Request) -> Reply:
        before = int(request.query.get("before", 10**9))
        return Reply(200, {"latest_posts": [p for p in self.posts if p["id"] < before][:5]})


def client(server: FakePlatform, clock: FakeClock | None = None) -> HttpClient:
    clock = clock or FakeClock()
    return HttpClient(
        "discourse", server.url, FAST, headers=headers("k3y", "system"), now=clock.time, sleep=clock.sleep
    )


def source(server: FakePlatform, **kwargs) -> DiscourseSource:
    return DiscourseSource(
        kwargs.pop("http", None) or client(server), server.url, FeedSettings(24, 50), now=lambda: NOW, **kwargs
    )


def test_backfill_then_follow_with_gaps_across_restarts_loses_and_repeats_nothing(server):
    forum = Forum(23)
    server.route("GET", "/posts.json", forum)
    server.route(
        "GET", "/admin/users/10.json", Reply(200, {"id": 10, "created_at": "2026-02-19T00:00:00Z", "post_count": 4})
    )
    cursor, seen = None, []
    for round_number in range(15):
        if round_number in (2, 6):
            forum.add(12)  # more than a page arrives: a gap to fill going back
        batch = source(server).fetch(cursor, 4)
        seen += [p.id for p in batch.posts]
        cursor = batch.next_cursor
    assert len(seen) == len(set(seen)) == 47
    assert all(request.headers["api-key"] == "k3y" for request in server.requests)


def test_posts_carry_raw_text_links_and_enriched_users(server):
    server.route("GET", "/posts.json", Forum(3))
    server.route(
        "GET", "/admin/users/11.json", Reply(200, {"id": 11, "created_at": "2026-02-19T08:00:00Z", "post_count": 4})
    )
    posts = {p.id: p for p in source(server).fetch(None, 100).posts}
    post = posts["1"]
    assert post.text == "Vote [now](https://example.org/x)"
    assert post.urls == ("https://example.org/x",)
    assert post.media == ()  # emoji images are not media
    assert post.author.created_at == datetime(2026, 2, 19, 8, tzinfo=UTC) and post.author.posts_count == 4
    assert post.author.default_avatar is True and post.url == f"{server.url}/t/slug/3/1"


def test_retry_after_is_honoured(server):
    clock = FakeClock()
    forum = Forum(3)
    calls = iter([Reply(429, {"errors": ["Slow down"], "error_type": "rate_limit"}, {"retry-after": "7"})])
    server.route("GET", "/posts.json", lambda request: next(calls, None) or forum(request))
    result = source(server, http=client(server, clock), enrich=False).fetch(None, 100)
    assert len(result.posts) == 3 and clock.slept[0] == 7


def test_suspend_deactivate_and_undo_send_the_documented_requests_once(server):
    for endpoint in ("suspend", "deactivate", "unsuspend", "activate"):
        server.route("PUT", f"/admin/users/12/{endpoint}.json", Reply(200, {"success": "OK"}))
    moderation = OnceOnly(DiscourseEnforcer(client(server), suspend_days=30, now=lambda: NOW))
    assert moderation.act(Action.SUSPEND, "12", "campaign", "d1:12").ok
    assert moderation.act(Action.SUSPEND, "12", "campaign", "d1:12").ok
    assert moderation.act(Action.REQUIRE_VERIFICATION, "12", "verify", "d2:12").ok
    assert moderation.act(Action.UNSUSPEND, "12", "", "d3:12").ok
    assert moderation.act(Action.LIFT_VERIFICATION, "12", "", "d4:12").ok
    suspended = server.sent("PUT", "/admin/users/12/suspend.json")
    assert len(suspended) == 1 and suspended[0].json() == {"suspend_until": "2026-03-22", "reason": "campaign"}
    assert all(
        len(server.sent("PUT", f"/admin/users/12/{e}.json")) == 1 for e in ("deactivate", "unsuspend", "activate")
    )


def test_a_forbidden_key_is_a_clear_failed_result(server):
    server.route(
        "PUT",
        "/admin/users/12/suspend.json",
        Reply(403, {"errors": ["You are not permitted"], "error_type": "invalid_access"}),
    )
    result = DiscourseEnforcer(client(server)).act(Action.SUSPEND, "12", "x", "d5:12")
    assert not result.ok and "You are not permitted" in result.detail and "admin API key" in result.detail
