"""The generic JSON adapter against a fake API on 127.0.0.1: field map, each cursor kind, actions."""

from __future__ import annotations

from domain.decisions import Action
from platforms.enforcing import OnceOnly
from platforms.http import HttpClient, HttpSettings
from platforms.http_json import HttpJsonEnforcer, HttpJsonSource
from platforms.settings import HttpJsonConfig
from tests.platform_server import FakeClock, FakePlatform, Reply, Request

FAST = HttpSettings(timeout_seconds=0.5, retries=1, backoff_seconds=0.01)
FIELDS = {"id": "uid", "created_at": "ts", "text": "body", "author.id": "user.id", "author.handle": "user.name"}


def item(n: int) -> dict:
    return {"uid": n, "ts": 1_771_560_000 + n // 2, "body": f"post {n}", "user": {"id": f"u{n % 4}", "name": "x"}}


ITEMS = [item(n) for n in range(1, 24)]


def source(server: FakePlatform, **settings) -> HttpJsonSource:
    clock = FakeClock()
    client = HttpClient("http_json", server.url, FAST, now=clock.time, sleep=clock.sleep)
    return HttpJsonSource(client, HttpJsonConfig(base_url=server.url, fields=FIELDS, page_size=5, **settings))


def drain(server: FakePlatform, rounds: int = 12, **settings) -> list[str]:
    cursor, seen = None, []
    for _ in range(rounds):
        batch = source(server, **settings).fetch(cursor, 7)  # a new source each round: a restart
        seen += [p.id for p in batch.posts]
        cursor = batch.next_cursor
    return seen


def test_id_cursor_with_records_path_and_field_map(server):
    def api(request: Request) -> Reply:
        after = int(request.query.get("since_id", 0))
        return Reply(200, {"data": {"items": [i for i in ITEMS if i["uid"] > after][: int(request.query["limit"])]}})

    server.route("GET", "/posts", api)
    seen = drain(server, records_path="data.items")
    assert seen == [str(n) for n in range(1, 24)]
    post = source(server, records_path="data.items").fetch(None, 1).posts[0]
    assert post.text == "post 1" and post.author.id == "u1" and post.created_at.year == 2026


def test_timestamp_cursor_repeats_no_post_at_a_shared_second(server):
    def api(request: Request) -> Reply:
        since = int(request.query.get("after", 0))  # inclusive, as many APIs are
        return Reply(200, [i for i in ITEMS if i["ts"] >= since][:5])

    server.route("GET", "/posts", api)
    seen = drain(server, rounds=20, cursor="timestamp", cursor_param="after")
    assert sorted(seen, key=int) == [str(n) for n in range(1, 24)] and len(seen) == 23


def test_opaque_cursor_from_a_body_field_and_from_the_link_header(server):
    def api(request: Request) -> Reply:
        start = int(request.query.get("page_token", 0))
        page = ITEMS[start : start + 5]
        return Reply(200, {"items": page, "next": str(start + len(page)) if page else None})

    server.route("GET", "/posts", api)
    assert drain(server, cursor="opaque", cursor_param="page_token", cursor_field="next", records_path="items") == [
        str(n) for n in range(1, 24)
    ]

    def linked(request: Request) -> Reply:
        start = int(request.query.get("from", 0))
        page = ITEMS[start : start + 5]
        link = {"link": f'<{server.url}/posts?from={start + len(page)}>; rel="next"'} if page else {}
        return Reply(200, page, link)

    server.route("GET", "/posts", linked)
    assert drain(server, cursor="opaque") == [str(n) for n in range(1, 24)]


def test_records_outside_the_schema_are_skipped_with_the_reason(server):
    server.route(
        "GET", "/posts", Reply(200, [item(1), {"uid": 2, "ts": "yesterday", "body": "x", "user": {"id": "u"}}])
    )
    result = source(server).fetch(None, 10)
    assert [p.id for p in result.posts] == ["1"]
    assert len(result.skipped) == 1 and "created_at" in result.skipped[0].problem


def test_actions_follow_their_templates_once_and_unconfigured_ones_say_so(server):
    server.route("POST", "/users/u%2F1/ban", Reply(200, {}))
    actions = {"suspend": {"method": "post", "url": "/users/{account_id}/ban", "body": {"why": "{reason}", "n": 1}}}
    moderation = OnceOnly(HttpJsonEnforcer(HttpClient("http_json", server.url, FAST), actions))
    assert moderation.act(Action.SUSPEND, "u/1", 'say "hi"', "k1").ok
    assert moderation.act(Action.SUSPEND, "u/1", 'say "hi"', "k1").ok
    sent = server.sent("POST", "/users/u%2F1/ban")
    assert len(sent) == 1 and sent[0].json() == {"why": 'say "hi"', "n": 1}
    assert sent[0].headers["idempotency-key"] == "k1"
    missing = moderation.act(Action.REQUIRE_VERIFICATION, "u1", "", "k2")
    assert not missing.ok and missing.unsupported and "http_json.actions.require_verification" in missing.detail


def test_an_apis_own_sentence_is_shown_and_a_stalled_poll_is_told_once(server):
    problem = {"type": "https://api.example/problems/state", "title": "Conflict", "status": 409,
               "detail": "account u1 is already suspended"}  # RFC 9457 problem details
    server.route("POST", "/users/u1/ban", Reply(409, problem, {"content-type": "application/problem+json"}))
    actions = {"suspend": {"url": "/users/{account_id}/ban"}}
    refused = HttpJsonEnforcer(HttpClient("http_json", server.url, FAST), actions).act(Action.SUSPEND, "u1", "", "k")
    assert not refused.ok and refused.detail.endswith("(409): account u1 is already suspended")

    server.route("GET", "/posts", Reply(429, {"message": "slow down"}, {"retry-after": "600"}), Reply(200, ITEMS[:3]))
    clock = FakeClock()
    client = HttpClient("http_json", server.url, FAST, now=clock.time, sleep=clock.sleep)  # waits 120 s at most
    poll = HttpJsonSource(client, HttpJsonConfig(base_url=server.url, fields=FIELDS))
    first, second = poll.fetch(None, 10), poll.fetch(None, 10)
    assert first.posts == second.posts == [] and len(first.notices) == 1 and second.notices == []
    assert "held back by a rate limit" in first.notices[0] and "600 s" in first.notices[0]
    clock.sleep(600)
    third = poll.fetch(None, 10)
    assert len(third.posts) == 3 and "works again" in third.notices[0]
