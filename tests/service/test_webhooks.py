"""Mastodon's webhooks at POST /mastodon/webhook over real HTTP: signed deliveries feed the pipeline within
seconds, bad, stale and replayed ones get 401 and change nothing, a post seen by webhook and by poll is stored
once, and a new account's admin record spares a lookup."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from detectors import WindowIndex
from platforms.mastodon import TIMELINE, MastodonSource
from service.http_server import HttpEndpoints
from service.poller import Poller
from service.webhooks import WEBHOOK_PATH, MastodonWebhooks, signature_of
from storage import Store
from tests.conftest import RecordingNotifier
from tests.platform_server import Timeline, documented, recorded_statuses
from tests.platforms.test_mastodon import NOW, source

SECRET = "webhook-secret-from-the-admin-ui"


def delivery(event: str, obj: dict, sent: datetime = NOW) -> bytes:
    """A webhook body as Mastodon serialises it: event, created_at, object."""
    return json.dumps({"event": event, "created_at": sent.isoformat().replace("+00:00", "Z"), "object": obj}).encode()


def campaign_statuses(accounts: int = 4) -> list[dict]:
    """Real recorded statuses turned into `accounts` new local accounts posting one message now."""
    template = recorded_statuses()[-1]
    statuses = []
    for index in range(accounts):
        status = copy.deepcopy(template)
        status.update(id=str(117100000000000000 + index), visibility="public", reblog=None, media_attachments=[],
                      created_at=(NOW - timedelta(minutes=5 - index)).isoformat().replace("+00:00", "Z"),
                      content="<p>Get 1000 followers overnight, guaranteed, at followers.example today</p>")
        status["account"] = {**status["account"], "id": f"5500{index}", "acct": f"grower{index}",
                             "username": f"grower{index}"}
        statuses.append(status)
    return statuses


@pytest.fixture
def endpoint(tmp_path, server) -> Iterator[tuple[str, Poller, RecordingNotifier, MastodonSource]]:
    store = Store.open(tmp_path / "chorus.db", clock=lambda: NOW)
    mastodon = source(server)
    notifier = RecordingNotifier()
    poller = Poller(store, mastodon, WindowIndex(), notifier)
    http = HttpEndpoints()
    http.mount(WEBHOOK_PATH, MastodonWebhooks(SECRET, store, poller, mastodon, 3600, now=NOW.timestamp))
    port = http.serve("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}", poller, notifier, mastodon
    finally:
        http.stop()
        store.close()


def post(url: str, body: bytes, signature: str | None = None) -> int:
    headers = {"Content-Type": "application/json", "X-Hub-Signature": signature or signature_of(SECRET, body)}
    return httpx.post(url, content=body, headers=headers, timeout=5).status_code


def test_pushed_statuses_make_a_card_at_once_and_the_poll_stores_none_of_them_again(endpoint, server):
    url, poller, notifier, _ = endpoint
    statuses = campaign_statuses()
    assert [post(url, delivery("status.created", status)) for status in statuses] == [200] * 4
    assert poller.store.count("posts") == 4 and notifier.published == []  # stored at once, detected next
    assert poller.take_pushed() == 4
    assert len(notifier.published) == 1  # the campaign's card, without waiting for a poll
    server.route("GET", TIMELINE, Timeline([*reversed(statuses), *recorded_statuses()], page_size=40))
    polled = poller.poll_once()
    assert polled.fetched == 4 + len(recorded_statuses()) and polled.new == len(recorded_statuses())
    assert poller.store.count("posts") == 4 + len(recorded_statuses())
    assert notifier.published == [notifier.published[0]]  # nothing new to announce


def test_bad_stale_and_replayed_deliveries_are_refused_with_401_and_change_nothing(endpoint):
    url, poller, _, _ = endpoint
    status = campaign_statuses(1)[0]
    body = delivery("status.created", status)
    assert post(url, body, signature="sha256=" + "0" * 64) == 401
    assert post(url, body, signature=signature_of("another secret", body)) == 401
    assert post(url, body.replace(b"followers", b"FOLLOWERS"), signature=signature_of(SECRET, body)) == 401
    stale = delivery("status.created", status, NOW - timedelta(hours=2))
    assert post(url, stale) == 401
    assert poller.store.count("posts") == 0
    assert post(url, body) == 200
    assert post(url, body) == 401  # the same delivery again: a replay
    assert poller.store.count("posts") == 1
    assert httpx.get(url, timeout=5).status_code == 405


def test_an_unlisted_status_and_other_events_are_taken_but_not_stored(endpoint):
    url, poller, _, _ = endpoint
    unlisted = {**campaign_statuses(1)[0], "visibility": "unlisted"}
    assert post(url, delivery("status.created", unlisted)) == 200
    report = documented("webhook_report_created.json")
    assert post(url, json.dumps(report).replace("2023-10-26T13:34:00.351Z", NOW.isoformat()).encode()) == 200
    assert post(url, b'{"not": "an event"}') == 400
    assert poller.store.count("posts") == 0


def test_a_new_account_pushed_by_account_created_needs_no_admin_lookup(endpoint, server):
    url, _, _, mastodon = endpoint
    record = documented("webhook_report_created.json")["object"]["account"]
    record = {**record, "id": "5600", "created_at": "2026-08-02T07:41:12.000Z"}
    assert post(url, delivery("account.created", record)) == 200
    status = campaign_statuses(1)[0]
    status["account"] = {**status["account"], "id": "5600", "created_at": "2026-08-02T00:00:00.000Z"}
    author = mastodon.to_post(status).author
    assert author.created_at == datetime(2026, 8, 2, 7, 41, 12, tzinfo=UTC)  # the exact time, from the push
    assert not mastodon.wants_facts(author)
    assert [r for r in server.requests if "/admin/" in r.path] == []
    [sign_up] = mastodon.sign_ups(["5600"])
    assert sign_up.email_domain == "emailservice.com" and sign_up.ip == "98.76.54.32"  # the first IP it used


def test_pushed_posts_count_for_their_platform_and_leave_the_poll_cursor_alone(endpoint, server):
    url, poller, _, _ = endpoint
    server.route("GET", TIMELINE, Timeline(recorded_statuses(), page_size=40))
    poller.poll_once()
    cursor = poller.store.cursor("mastodon")
    assert post(url, delivery("status.created", campaign_statuses(1)[0])) == 200
    assert poller.store.cursor("mastodon") == cursor
    sources = {row[0] for row in poller.store.db.execute("SELECT DISTINCT source FROM posts")}
    assert sources == {"mastodon"}  # App Home's platform filter sees one platform
