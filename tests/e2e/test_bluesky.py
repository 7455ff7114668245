"""The whole bot on Bluesky: `bot.py run` reads a fake Jetstream over a real WebSocket, looks accounts up on a
fake AppView, posts the campaign's card to a fake Slack, and a moderator's signed clicks reach a fake Ozone
as one takedown per account; the stream is cut mid-way and the bot killed, and nothing is lost or stored twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers import ids
from tests.bluesky_fakes import EMIT, FakeAppView, FakeJetstream, FakeOzone, campaign, organic, post_creates
from tests.bot_process import BotProcess
from tests.platform_server import FakePlatform, Reply
from tests.slack_fakes import FakeSlack, wait_for

PASSWORD = "e2e-ozone-password"
MODERATOR = "did:plc:chorusmoderator0000000000"


@pytest.fixture
def jetstream() -> Iterator[FakeJetstream]:
    fake = FakeJetstream()
    yield fake
    fake.close()


@pytest.fixture
def bluesky_bot(slack_bot, jetstream: FakeJetstream, server: FakePlatform) -> Callable[..., BotProcess]:
    """The bot reading `jetstream`, with the AppView and Ozone on `server`, polling every 0.2 s."""

    def make(workdir: Path, fake: FakeSlack) -> BotProcess:
        bot = slack_bot(workdir, fake, server.url, source={"kind": "bluesky"},
                        bluesky={"jetstream_url": jetstream.url, "appview_url": server.url, "ozone_url": server.url,
                                 "report_down_after_seconds": 1})
        bot.env.update(OZONE_ADMIN_PASSWORD=PASSWORD, OZONE_MODERATOR_DID=MODERATOR)
        return bot

    return make


def stored_posts(bot: BotProcess) -> int:
    store = bot.store()
    try:
        return store.db.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        store.close()


def test_a_bluesky_campaign_is_carded_and_taken_down_in_ozone_once_per_account(tmp_path, jetstream, server,
                                                                               fake_slack, bluesky_bot):
    now = datetime.now(UTC)
    chatter, chatter_profiles = organic(now)
    voters, voter_profiles = campaign(now)
    FakeAppView(server, chatter_profiles + voter_profiles)
    ozone = FakeOzone(server, PASSWORD)
    ozone.outage = [Reply(503, {"error": "InternalServerError", "message": "db down"})] * 2  # the first account's tries
    bot = bluesky_bot(tmp_path, fake_slack).start()
    try:
        wait_for(lambda: jetstream.connections, timeout=30)  # the first start tails live
        jetstream.publish(chatter + voters)
        cluster_id, card_ts = bot.card(fake_slack, "voter0.bsky.social")
        card = next(c for c in fake_slack.of("chat.postMessage") if "voter0" in json.dumps(c.params))
        blocks = json.dumps(card.params["blocks"])
        assert all(f"<https://bsky.app/profile/voter{i}.bsky.social|@voter{i}.bsky.social>" in blocks
                   for i in range(6))
        assert all(d["did"] not in blocks for d in chatter_profiles)  # the real chatter is not in the cluster

        slack = bot.slack
        assert slack.click(ids.SUSPEND_ALL, cluster_id, "UMOD1", card_ts).status_code == 200
        dids = [p["did"] for p in voter_profiles]
        wait_for(lambda: sum(ozone.takendown.get(did, False) for did in dids) == 5, timeout=20)
        failed = wait_for(lambda: next((c for c in fake_slack.of("chat.update")
                                        if "Retry failed" in json.dumps(c.params)), None), timeout=20)
        assert "503" in json.dumps(failed.params)
        retry = next(element for block in failed.params["blocks"] if block["type"] == "actions"
                     for element in block["elements"] if element["action_id"] == ids.RETRY)
        assert slack.click(ids.RETRY, retry["value"], "UMOD1", card_ts).status_code == 200
        wait_for(lambda: all(ozone.takendown.get(did) for did in dids), timeout=20)
        stamp = wait_for(lambda: next((c for c in fake_slack.of("chat.update")
                                       if "Suspended 6 accounts" in json.dumps(c.params)
                                       and "Retry failed" not in json.dumps(c.params)), None), timeout=20)
        assert stamp.params["ts"] == card_ts
        events = [r.json() for r in server.sent("POST", EMIT) if r.headers.get("authorization", "").startswith("Basic")]
        takedowns = [e for e in events if e["event"]["$type"].endswith("#modEventTakedown")]
        assert all(e["createdBy"] == MODERATOR and e["event"]["acknowledgeAccountSubjects"] for e in takedowns)
        assert all(cluster_id in e["event"]["comment"] and "accounts" in e["event"]["comment"] for e in takedowns)
    finally:
        returncode = bot.stop()
        log = bot.log()
    assert returncode == 0, log
    assert [ozone.times(did, "takedown") for did in dids] == [1] * 6  # exactly once each, and never again
    assert PASSWORD not in log


def test_a_cut_stream_and_a_killed_bot_lose_nothing_and_store_nothing_twice(tmp_path, jetstream, server,
                                                                             fake_slack, bluesky_bot):
    now = datetime.now(UTC)
    chatter, chatter_profiles = organic(now)
    voters, voter_profiles = campaign(now, accounts=4)
    FakeAppView(server, chatter_profiles + voter_profiles)
    FakeOzone(server, PASSWORD)
    jetstream.drop_after = 3  # every connection is cut after three events
    creates = post_creates(chatter + voters)
    first, second = chatter[:90], chatter[90:] + voters
    bot = bluesky_bot(tmp_path, fake_slack).start()
    try:
        wait_for(lambda: jetstream.connections, timeout=30)
        jetstream.publish(first)
        expected_first = len(post_creates(first))
        wait_for(lambda: stored_posts(bot) == expected_first, timeout=30)
        assert len(jetstream.connections) >= 3  # it was cut and came back, each time from its last event
        bot.kill()
        store = bot.store()
        cursor = store.cursor("bluesky")
        store.close()
        jetstream.publish(second)  # posted while the bot is down

        before = len(jetstream.connections)
        bot.start()
        wait_for(lambda: stored_posts(bot) == len(creates), timeout=30)
        assert cursor is not None and jetstream.cursors()[before] == int(cursor)  # replayed from the stored cursor
        store = bot.store()
        ids_stored = [row[0] for row in store.db.execute("SELECT id FROM posts")]
        store.close()
        assert sorted(ids_stored) == sorted(f"at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}"
                                            for e in creates)
        bot.card(fake_slack, "voter0.bsky.social")
    finally:
        bot.stop()
