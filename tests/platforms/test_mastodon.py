"""The Mastodon adapter against a fake Mastodon on 127.0.0.1 serving the recorded real responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from detectors import WindowIndex
from domain.decisions import Action
from platforms.enforcing import OnceOnly
from platforms.http import HttpClient, HttpSettings, PlatformError, RequestBudget
from platforms.mastodon import TIMELINE, MastodonEnforcer, MastodonSource
from platforms.paging import FeedSettings
from service.poller import Poller
from storage import Store
from tests.conftest import RecordingNotifier
from tests.platform_server import (
    FakeClock,
    FakePlatform,
    MastodonAdmin,
    Reply,
    Request,
    Timeline,
    cassette,
    pool_campaign_timeline,
    recorded,
    recorded_statuses,
)

FAST = HttpSettings(timeout_seconds=0.5, retries=2, backoff_seconds=0.01, max_wait_seconds=60)
NOW = datetime(2026, 8, 2, 8, 0, tzinfo=UTC)
ADMIN_ID = "117020565693913441"


def client(server: FakePlatform, clock: FakeClock | None = None, budget: RequestBudget | None = None) -> HttpClient:
    clock = clock or FakeClock()
    return HttpClient(
        "mastodon",
        server.url,
        FAST,
        headers={"Authorization": "Bearer token"},
        budget=budget,
        now=clock.time,
        sleep=clock.sleep,
    )


def source(server: FakePlatform, **kwargs) -> MastodonSource:
    feed = kwargs.pop("feed", FeedSettings(backfill_hours=48, backfill_pages=50))
    return MastodonSource(kwargs.pop("http", None) or client(server), "public", feed, now=lambda: NOW, **kwargs)


def test_first_start_backfills_across_pages_then_follows_new_posts_without_loss_or_repeat(server):
    timeline = Timeline(recorded_statuses())
    server.route("GET", TIMELINE, timeline)
    mastodon = source(server)

    first = mastodon.fetch(None, 1000)
    assert sorted(p.id for p in first.posts) == sorted(s["id"] for s in timeline.statuses)
    assert len(first.posts) == 28 and first.exhausted

    new_ids = timeline.post(7)
    second = mastodon.fetch(first.next_cursor, 1000)
    assert sorted(p.id for p in second.posts) == sorted(new_ids)
    forward = [r.query for r in server.sent("GET", TIMELINE)][-3:]
    assert all("min_id" in query for query in forward)

    third = mastodon.fetch(second.next_cursor, 1000)
    assert third.posts == [] and third.exhausted


def test_restarts_with_the_stored_cursor_lose_and_repeat_nothing(server):
    timeline = Timeline(recorded_statuses())
    server.route("GET", TIMELINE, timeline)
    cursor, seen = None, []
    for round_number in range(12):
        if round_number == 3:
            timeline.post(9)
        batch = source(server).fetch(cursor, 4)  # a new source each time: a restart
        seen += [p.id for p in batch.posts]
        cursor = batch.next_cursor
    assert len(seen) == len(set(seen)) == 37
    assert set(seen) == {s["id"] for s in timeline.statuses}


def test_backward_paging_follows_the_link_header(server):
    timeline = Timeline(recorded_statuses())
    server.route("GET", TIMELINE, timeline)
    source(server).fetch(None, 1000)
    first, second = server.sent("GET", TIMELINE)[:2]
    assert "max_id" not in first.query and first.query["limit"] == "40"
    assert second.query["max_id"] == timeline.statuses[4]["id"]


def test_backfill_stops_at_the_detection_window_and_at_the_page_budget(server):
    server.route("GET", TIMELINE, Timeline(recorded_statuses()))
    windowed = source(server, feed=FeedSettings(backfill_hours=12, backfill_pages=50)).fetch(None, 1000)
    assert len(windowed.posts) == 20
    assert all(p.created_at >= datetime(2026, 8, 1, 20, tzinfo=UTC) for p in windowed.posts)

    budgeted = source(server, feed=FeedSettings(backfill_hours=48, backfill_pages=2)).fetch(None, 1000)
    assert len(budgeted.posts) == 10


def test_statuses_become_posts_with_plain_text_accounts_and_media(server):
    statuses = recorded_statuses()
    _, _, body = recorded("test_entity_mediaattachment.yaml", "GET", "/statuses/110447003454258227")
    with_media = json.loads(body)
    with_media["id"] = str(int(statuses[0]["id"]) + 1)
    with_media["created_at"] = "2026-08-02T07:30:00.000Z"
    statuses.insert(0, with_media)
    server.route("GET", TIMELINE, Timeline(statuses))

    posts = {p.id: p for p in source(server).fetch(None, 1000).posts}
    toot = posts["117020593378945190"]
    assert toot.text == "Toot, finally!"
    assert toot.author.handle == "mastodonpy_test_2" and toot.author.default_avatar is True
    assert toot.author.created_at == datetime(2026, 8, 1, tzinfo=UTC)
    assert toot.lang == "ja" and toot.url.endswith("/117020593378945190")
    media = posts[with_media["id"]].media
    assert media and all(m.blurhash for m in media)
    assert [m.url for m in media] == [a["url"] for a in with_media["media_attachments"]]


def test_reading_asks_the_admin_api_nothing_and_a_lookup_gives_the_exact_creation_time(server):
    server.route("GET", TIMELINE, Timeline(recorded_statuses()))
    _, _, admin = recorded("test_admin_accounts_v2.yaml", "GET", f"/api/v1/admin/accounts/{ADMIN_ID}")
    server.route("GET", f"/api/v1/admin/accounts/{ADMIN_ID}", Reply(200, json.loads(admin)))
    mastodon = source(server, enrich=True)

    result = mastodon.fetch(None, 1000)
    assert not [r for r in server.requests if "/admin/" in r.path]  # reading looks nobody up
    author = next(p.author for p in result.posts if p.author.id == ADMIN_ID)
    assert author.created_at == datetime(2026, 8, 1, tzinfo=UTC) and mastodon.wants_facts(author)  # the day only

    [looked_up] = mastodon.look_up([author])
    exact = datetime(2026, 8, 1, 13, 48, 47, 774000, tzinfo=UTC)
    assert looked_up.created_at == exact and not mastodon.wants_facts(author)  # remembered
    again = mastodon.fetch(None, 1000)
    assert all(p.author.created_at == exact for p in again.posts if p.author.id == ADMIN_ID)
    assert len(server.sent("GET", f"/api/v1/admin/accounts/{ADMIN_ID}")) == 1


def test_lookups_without_the_admin_scope_are_reported_once_and_stop(server):
    server.route("GET", TIMELINE, Timeline(recorded_statuses()))
    server.route("GET", f"/api/v1/admin/accounts/{ADMIN_ID}", Reply(403, {"error": "outside the authorized scopes"}))
    mastodon = source(server, enrich=True)
    authors = list({p.author.id: p.author for p in mastodon.fetch(None, 1000).posts}.values())
    authors.sort(key=lambda a: a.id != ADMIN_ID)

    assert mastodon.look_up(authors) == [] and mastodon.look_up(authors) == []
    assert len(server.sent("GET", f"/api/v1/admin/accounts/{ADMIN_ID}")) == 1  # no request after the refusal
    assert [r.path for r in server.requests if "/admin/" in r.path] == [f"/api/v1/admin/accounts/{ADMIN_ID}"]
    notices = mastodon.fetch(None, 1000).notices
    assert len(notices) == 1 and "admin:read:accounts" in notices[0] and "outside the authorized scopes" in notices[0]
    assert not any(mastodon.wants_facts(a) for a in authors)


def test_a_first_start_on_a_thousand_statuses_looks_up_only_candidate_accounts_and_keeps_reading(server, tmp_path):
    clock = FakeClock(NOW.timestamp())
    statuses = pool_campaign_timeline(NOW, server.url, accounts=14, organic=330)
    timeline = Timeline(statuses, page_size=40)
    server.route("GET", TIMELINE, timeline)
    days = {s["account"]["id"]: s["account"]["created_at"] for s in statuses}
    MastodonAdmin(server, sorted(days), {account: day.replace("T00:00:00.000", "T13:48:47.774")
                                        for account, day in days.items()})
    budget = RequestBudget(300, 900, clock.time)  # the default budget: 300 requests a quarter of an hour
    mastodon = MastodonSource(client(server, clock, budget), "public", FeedSettings(48, 50), enrich=True,
                              now=lambda: NOW)
    store = Store.open(tmp_path / "chorus.db")
    try:
        poller = Poller(store, mastodon, WindowIndex(), RecordingNotifier())
        first = poller.poll_once()
        assert first.fetched == len(statuses) > 1000 and len(days) > 300
        looked_up = {r.path.rsplit("/", 1)[1] for r in server.requests if "/admin/" in r.path}
        voters = {account for account in days if account.startswith("9000")}
        candidates = {author.id for author in poller.index.candidate_authors()}
        assert voters <= looked_up <= candidates and len(looked_up) == first.filled < len(days) // 10

        new = timeline.post(5)  # new statuses arrive: read at the next poll, no wait
        second = poller.poll_once()
        assert sorted(p.id for p in store.posts_since(NOW - timedelta(hours=1)) if p.id in new) == sorted(new)
        assert second.fetched == 5 and clock.slept == []
        [cluster_id] = [c for (c,) in store.db.execute("SELECT id FROM clusters") if
                        voters <= {a.id for a in store.cluster_view(c).accounts}]
        ages = {a.id: a.created_at for a in store.cluster_view(cluster_id).accounts}
        assert all(ages[v].time() != datetime.min.time() for v in voters)  # the exact times, not the day
    finally:
        store.close()


def test_a_disabled_timeline_is_reported_once_and_not_polled_again(server):
    _, _, instance = recorded("test_timeline_disabled.yaml", "GET", "https://mastodon.social/api/v2/instance")
    server.route("GET", "/api/v2/instance", Reply(200, json.loads(instance)))
    server.route("GET", TIMELINE, Reply(200, []))
    mastodon = source(server)

    first = mastodon.fetch(None, 100)
    assert len(first.notices) == 1 and "disabled" in first.notices[0] and first.exhausted
    asked = len(server.requests)
    again = mastodon.fetch(first.next_cursor, 100)
    assert again.notices == [] and again.posts == [] and len(server.requests) == asked


def test_a_rejected_token_is_reported_once_naming_the_scope(server):
    server.route("GET", TIMELINE, Reply(403, {"error": "This action is outside the authorized scopes"}))
    mastodon = source(server)
    first = mastodon.fetch(None, 100)
    assert len(first.notices) == 1 and "read:statuses" in first.notices[0]
    assert mastodon.fetch(None, 100).notices == []


def test_rate_limit_headers_make_the_client_wait_until_the_iso_reset(server):
    timeline = Timeline(recorded_statuses())
    clock = FakeClock()
    reset = datetime.fromtimestamp(clock.now + 30, UTC).isoformat().replace("+00:00", "Z")
    exhausted = Reply(200, timeline.statuses[:5], {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    calls = iter([exhausted])
    server.route("GET", TIMELINE, lambda request: next(calls, None) or timeline(request))

    result = source(server, http=client(server, clock)).fetch(None, 1000)
    assert len(result.posts) == 28
    assert clock.slept and 29 <= clock.slept[0] <= 30


def test_429_waits_for_the_reset_then_retries(server):
    timeline = Timeline(recorded_statuses())
    clock = FakeClock()
    reset = datetime.fromtimestamp(clock.now + 12, UTC).isoformat()
    calls = iter([Reply(429, {"error": "Too many requests"}, {"x-ratelimit-reset": reset})])
    server.route("GET", TIMELINE, lambda request: next(calls, None) or timeline(request))
    result = source(server, http=client(server, clock)).fetch(None, 1000)
    assert len(result.posts) == 28 and 11 <= clock.slept[0] <= 12


def test_a_long_rate_limit_ends_the_batch_and_the_cursor_resumes_later(server):
    timeline = Timeline(recorded_statuses())
    long_wait = Reply(429, {"error": "Too many requests"}, {"retry-after": "600"})
    state = {"calls": 0}

    def limited(request: Request) -> Reply:
        state["calls"] += 1
        return long_wait if state["calls"] == 3 else timeline(request)

    server.route("GET", TIMELINE, limited)
    first = source(server).fetch(None, 1000)
    assert len(first.posts) == 10 and first.exhausted
    rest = source(server).fetch(first.next_cursor, 1000)
    assert sorted(p.id for p in first.posts + rest.posts) == sorted(s["id"] for s in timeline.statuses)


def test_the_request_budget_caps_requests_per_window(server):
    server.route("GET", TIMELINE, Timeline(recorded_statuses()))
    clock = FakeClock()
    budget = RequestBudget(3, 900, now=clock.time)
    mastodon = source(server, http=client(server, clock, budget))
    cursor, seen = None, []
    for _ in range(5):
        before = len(server.requests)
        batch = mastodon.fetch(cursor, 1000)
        assert len(server.requests) - before <= 3
        seen += [p.id for p in batch.posts]
        cursor = batch.next_cursor
        clock.now += 901
    assert len(seen) == len(set(seen)) == 28


def test_server_errors_and_timeouts_are_retried_with_backoff(server):
    timeline = Timeline(recorded_statuses())
    clock = FakeClock()
    script = iter([Reply(500, {"error": "boom"}), Reply(200, [], delay=1.0)])
    server.route("GET", TIMELINE, lambda request: next(script, None) or timeline(request))
    result = source(server, http=client(server, clock)).fetch(None, 1000)
    assert len(result.posts) == 28
    assert len(clock.slept) == 2 and clock.slept[1] > clock.slept[0] * 0.9


def test_persistent_failure_raises_a_retryable_error_and_keeps_the_cursor(server):
    server.route("GET", TIMELINE, Reply(502, raw=b"<html>Bad gateway</html>", headers={"content-type": "text/html"}))
    with pytest.raises(PlatformError) as failure:
        source(server).fetch(None, 100)
    assert failure.value.retryable and "3 attempts" in str(failure.value) and "502" in str(failure.value)


def test_malformed_json_is_reported_naming_the_endpoint(server):
    server.route("GET", TIMELINE, Reply(200, raw=b'[{"id": "1", "content": '))
    with pytest.raises(PlatformError, match="malformed JSON") as failure:
        source(server).fetch(None, 100)
    assert TIMELINE in str(failure.value)


def enforcer(server: FakePlatform) -> OnceOnly:
    return OnceOnly(MastodonEnforcer(client(server)))


def local_account(domain: str | None = None) -> Reply:
    _, _, body = recorded("test_admin_moderation.yaml", "GET", "/api/v1/admin/accounts/117020566092212359")
    account = json.loads(body)
    account["domain"] = domain
    return Reply(200, account)


def test_suspend_sends_one_action_with_the_reason_even_when_repeated(server):
    status, _, body = recorded("test_admin_moderation.yaml", "POST", "/action")
    server.route("POST", "/api/v1/admin/accounts/42/action", Reply(status, json.loads(body)))
    moderation = enforcer(server)
    first = moderation.act(Action.SUSPEND, "42", "coordinated campaign", "decision-1:42")
    again = moderation.act(Action.SUSPEND, "42", "coordinated campaign", "decision-1:42")
    assert first.ok and again.ok
    sent = server.sent("POST", "/api/v1/admin/accounts/42/action")
    assert len(sent) == 1
    assert sent[0].form() == {"type": "suspend", "text": "coordinated campaign", "send_email_notification": "true"}
    assert sent[0].headers["authorization"] == "Bearer token"


def test_require_verification_disables_a_local_account_and_undo_enables_it(server):
    server.route("GET", "/api/v1/admin/accounts/7", local_account())
    server.route("POST", "/api/v1/admin/accounts/7/action", Reply(200, {}))
    server.route("POST", "/api/v1/admin/accounts/7/enable", local_account())
    server.route("POST", "/api/v1/admin/accounts/7/unsuspend", local_account())
    moderation = enforcer(server)
    assert moderation.act(Action.REQUIRE_VERIFICATION, "7", "verify", "d2:7").ok
    assert server.sent("POST", "/api/v1/admin/accounts/7/action")[0].form()["type"] == "disable"
    assert moderation.act(Action.LIFT_VERIFICATION, "7", "", "d3:7").ok
    assert moderation.act(Action.UNSUSPEND, "7", "", "d4:7").ok
    assert len(server.sent("POST", "/api/v1/admin/accounts/7/enable")) == 1
    assert len(server.sent("POST", "/api/v1/admin/accounts/7/unsuspend")) == 1


def test_remote_accounts_get_a_clear_unsupported_result_instead_of_a_blind_call(server):
    server.route("GET", "/api/v1/admin/accounts/9", local_account("example.org"))
    result = enforcer(server).act(Action.REQUIRE_VERIFICATION, "9", "verify", "d5:9")
    assert not result.ok and result.unsupported and "remote account" in result.detail
    assert server.sent("POST", "/api/v1/admin/accounts/9/action") == []


def test_a_forbidden_action_names_the_missing_scope_and_a_fixed_token_can_retry(server):
    forbidden = next(
        i["response"] for i in cassette("test_admin_moderation.yaml") if i["response"]["status"]["code"] == 403
    )
    refusal = Reply(403, raw=forbidden["body"]["string"].encode())
    server.route("POST", "/api/v1/admin/accounts/5/unsuspend", refusal, Reply(200, {}))
    moderation = enforcer(server)
    refused = moderation.act(Action.UNSUSPEND, "5", "", "d6:5")
    assert not refused.ok and not refused.retryable and "admin:write:accounts" in refused.detail
    assert moderation.act(Action.UNSUSPEND, "5", "", "d6:5").ok
    assert len(server.sent("POST", "/api/v1/admin/accounts/5/unsuspend")) == 2


def test_an_outage_is_a_retryable_failure(server):
    server.route("POST", "/api/v1/admin/accounts/5/action", Reply(503, {"error": "down"}))
    result = enforcer(server).act(Action.SUSPEND, "5", "spam", "d7:5")
    assert not result.ok and result.retryable and "503" in result.detail
    assert len(server.sent("POST", "/api/v1/admin/accounts/5/action")) == FAST.retries + 1
