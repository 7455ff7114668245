"""The bot killed (SIGKILL) at each step of a poll, then restarted: no post lost or stored twice, the
campaign's card posted exactly once, and one `cluster_flagged` audit entry per cluster.

The real bot polls a fake Mastodon and posts to the fake Slack; gates on the fakes hold a request so
the kill lands inside a known step, and the step with no I/O (detection) is caught by freezing the bot
the moment its batch is in the database.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from platforms.mastodon import TIMELINE
from tests.platform_server import FakePlatform, Timeline, campaign_timeline
from tests.slack_fakes import wait_for


def _serve(platform: FakePlatform, organic: int = 0) -> list[str]:
    statuses = campaign_timeline(datetime.now(UTC), organic=organic)
    platform.route("GET", TIMELINE, Timeline(statuses, page_size=40))
    return [status["id"] for status in statuses]


def _is_card(phrase: str):
    return lambda params: phrase in json.dumps(params.get("blocks"))


def _assert_nothing_lost_or_repeated(bot, fake_slack, status_ids: list[str]) -> None:
    bot.card(fake_slack, "Candidate X")
    store = bot.store()
    try:
        stored = [row[0] for row in store.db.execute("SELECT id FROM posts")]
        assert sorted(stored) == sorted(status_ids)
        assert store.db["cursors"].get("mastodon")["posts_total"] == len(status_ids)  # counted once each
        assert store.unnotified() == []
        clusters = [row[0] for row in store.db.execute("SELECT id FROM clusters")]
        flagged = [e.cluster_id for e in store.audit_entries() if e.event == "cluster_flagged"]
        assert sorted(flagged) == sorted(clusters)
    finally:
        store.close()
    cards = [m for m in fake_slack.channel_messages("CMOD") if (m.get("metadata") or {}).get("event_payload")]
    markers = [m["metadata"]["event_payload"]["marker"] for m in cards]
    assert sorted(markers) == sorted(f"card:{cluster}" for cluster in clusters)  # each card once


def test_killed_while_fetching_nothing_is_stored_and_the_restart_reads_it_all(tmp_path: Path, slack_bot, fake_slack,
                                                                              server):
    status_ids = _serve(server)
    bot = slack_bot(tmp_path, fake_slack, server.url).start()
    gate = server.hold("GET", TIMELINE, after=True)
    gate.wait()
    bot.kill()
    gate.release()
    assert not (tmp_path / "chorus.db").exists() or bot.store().count("posts") == 0
    bot.start()
    try:
        _assert_nothing_lost_or_repeated(bot, fake_slack, status_ids)
    finally:
        assert bot.stop() == 0


def test_killed_after_storing_before_detection_the_restart_detects_the_stored_window(tmp_path: Path, slack_bot,
                                                                                     fake_slack,
                                                                                     server):
    status_ids = _serve(server, organic=1500)
    bot = slack_bot(tmp_path, fake_slack, server.url, mastodon={"enrich_accounts": False}).start()
    database = tmp_path / "chorus.db"
    wait_for(database.exists, timeout=30)
    watcher = sqlite3.connect(database, timeout=5)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if watcher.execute("SELECT count(*) FROM posts").fetchone()[0]:
                break
        except sqlite3.OperationalError:  # the bot is still creating its tables
            pass
    bot.freeze()  # the batch and its cursor are committed; detection is running
    posts, clusters = (watcher.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                       for table in ("posts", "clusters"))
    watcher.close()
    bot.kill()
    assert (posts, clusters) == (len(status_ids), 0), "the bot was not caught between storing and detecting"
    assert fake_slack.of("chat.postMessage") == []

    bot.start()  # nothing new to fetch: the stored window alone must yield the cluster
    try:
        _assert_nothing_lost_or_repeated(bot, fake_slack, status_ids)
    finally:
        assert bot.stop() == 0


@pytest.mark.parametrize("slack_posted", [False, True], ids=["before-slack-posted-it", "after-slack-posted-it"])
def test_killed_while_posting_the_card_it_is_in_the_channel_once(tmp_path: Path, slack_bot, fake_slack, server,
                                                                 slack_posted):
    status_ids = _serve(server)
    gate = fake_slack.hold("chat.postMessage", after=slack_posted, when=_is_card("Candidate X"))
    bot = slack_bot(tmp_path, fake_slack, server.url).start()
    gate.wait()  # detection is recorded; the card is on its way to Slack
    bot.kill()
    gate.release()
    store = bot.store()
    [cluster_id] = store.clusters_by_status("open")
    assert store.cluster_view(cluster_id).message_ts is None and store.unnotified()[0].earlier_attempt is not None
    store.close()
    assert len(fake_slack.channel_messages("CMOD")) == int(slack_posted)

    bot.start()
    try:
        _assert_nothing_lost_or_repeated(bot, fake_slack, status_ids)
    finally:
        assert bot.stop() == 0
    assert len(fake_slack.of("conversations.history")) >= 1  # the restart looked before posting
    [card] = fake_slack.channel_messages("CMOD")
    store = bot.store()
    assert store.cluster_view(cluster_id).message_ts == card["ts"]
    store.close()
