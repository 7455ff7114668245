"""The bot killed (SIGKILL) at each step of a decision, then restarted: every account is acted on exactly once,
the decision finishes, its card is stamped, and the audit log tells all of it.

The real bot runs as a subprocess against the fake Slack and a fake Mastodon whose admin API keeps
each account's state; a gate on the fake holds one request so the kill lands inside a known step.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers import ids
from platforms.mastodon import TIMELINE
from tests.platform_server import ADMIN, FakePlatform, MastodonAdmin, Timeline, campaign_timeline
from tests.slack_fakes import wait_for

VOTERS = [f"9000{i}" for i in range(6)]


@pytest.fixture
def mastodon():
    platform = FakePlatform()
    platform.route("GET", TIMELINE, Timeline(campaign_timeline(datetime.now(UTC)), page_size=40))
    admin = MastodonAdmin(platform, VOTERS)
    yield platform, admin
    platform.close()


def _stamped(fake_slack, ts: str, phrase: str):
    def stamped():
        return [m for m in fake_slack.channel_messages("CMOD") if m["ts"] == ts and phrase in json.dumps(m["blocks"])]
    return stamped


def _audit(bot) -> list[dict]:
    store = bot.store()
    try:
        return store.audit_entries()
    finally:
        store.close()


def _decision(bot, cluster_id: str):
    store = bot.store()
    try:
        return store.decisions_for(cluster_id)
    finally:
        store.close()


def _actions_ok_once(bot, accounts: list[str]) -> None:
    """The audit log holds exactly one success per account, and no failure."""
    events = _audit(bot)
    assert Counter(e.account_id for e in events if e.event == "action_ok") == Counter(accounts)
    assert not [e for e in events if e.event == "action_failed"]


@pytest.mark.parametrize("platform_acted", [True, False], ids=["after-the-platform-call", "during-the-platform-call"])
def test_killed_around_a_platform_call_every_account_is_suspended_once(tmp_path: Path, slack_bot, fake_slack, mastodon,
                                                                       platform_acted):
    platform, admin = mastodon
    bot = slack_bot(tmp_path, fake_slack, platform.url).start()
    try:
        cluster_id, ts = bot.card(fake_slack, "Candidate X")
        gate = platform.hold("POST", f"{ADMIN}90002/action", after=platform_acted)
        bot.slack.click(ids.SUSPEND_ALL, cluster_id, "UMOD1", ts)
        gate.wait()
        bot.kill()
        gate.release()
        assert admin.state["90002"]["suspended"] is platform_acted
        store = bot.store()
        pending = store.db.execute("SELECT account_id FROM actions WHERE status = 'pending'").fetchall()
        assert [account for (account,) in pending] == ["90002"]  # claimed; whether it happened is unknown
        store.close()

        bot.start()
        wait_for(lambda: _decision(bot, cluster_id)[0].status == "done", timeout=30)
        wait_for(_stamped(fake_slack, ts, "Suspended 6 accounts"), timeout=15)
    finally:
        assert bot.stop() == 0
    assert all(admin.times(voter, "suspend") == 1 for voter in VOTERS), admin.carried_out
    sent_again = len(platform.sent("POST", f"{ADMIN}90002/action"))
    assert sent_again == (1 if platform_acted else 2)  # reconciled from the admin API, not re-sent blindly
    _actions_ok_once(bot, VOTERS)
    events = [e.event for e in _audit(bot)]
    assert events.count("decision_recorded") == 1 and "decision_resumed" in events and events[-1] != "action_ok"
    assert "decision_done" in events


def test_killed_after_the_decision_was_recorded_before_any_platform_call(tmp_path: Path, slack_bot, fake_slack,
                                                                         mastodon):
    platform, admin = mastodon
    bot = slack_bot(tmp_path, fake_slack, platform.url).start()
    try:
        cluster_id, ts = bot.card(fake_slack, "Candidate X")
        gate = fake_slack.hold("chat.update", when=lambda params: "Suspending" in json.dumps(params))
        bot.slack.click(ids.SUSPEND_ALL, cluster_id, "UMOD1", ts)
        gate.wait()  # the decision is recorded; the card is being stamped "Suspending…"
        bot.kill()
        gate.release()
        assert admin.carried_out == [] and _decision(bot, cluster_id)[0].status == "approved"

        bot.start()
        wait_for(_stamped(fake_slack, ts, "Suspended 6 accounts"), timeout=30)
    finally:
        assert bot.stop() == 0
    assert sorted(admin.carried_out) == [(voter, "suspend") for voter in VOTERS]
    _actions_ok_once(bot, VOTERS)


def test_killed_before_the_card_update_the_card_is_stamped_on_restart(tmp_path: Path, slack_bot, fake_slack, mastodon):
    platform, admin = mastodon
    bot = slack_bot(tmp_path, fake_slack, platform.url).start()
    try:
        cluster_id, ts = bot.card(fake_slack, "Candidate X")
        gate = fake_slack.hold("chat.update", when=lambda params: "Suspended 6" in json.dumps(params))
        bot.slack.click(ids.SUSPEND_ALL, cluster_id, "UMOD1", ts)
        gate.wait()  # every account is suspended and recorded; Slack never got the stamp
        bot.kill()
        gate.release()
        assert _decision(bot, cluster_id)[0].status == "done"
        assert not _stamped(fake_slack, ts, "Suspended 6 accounts")()

        bot.start()
        wait_for(_stamped(fake_slack, ts, "Suspended 6 accounts"), timeout=30)
    finally:
        assert bot.stop() == 0
    assert sorted(admin.carried_out) == [(voter, "suspend") for voter in VOTERS]
    store = bot.store()
    assert store.stale_cards() == []
    store.close()


def test_killed_in_the_middle_of_an_undo_the_undo_finishes_once(tmp_path: Path, slack_bot, fake_slack, mastodon):
    platform, admin = mastodon
    bot = slack_bot(tmp_path, fake_slack, platform.url).start()
    try:
        cluster_id, ts = bot.card(fake_slack, "Candidate X")
        bot.slack.click(ids.SUSPEND_ALL, cluster_id, "UMOD1", ts)
        wait_for(_stamped(fake_slack, ts, "Suspended 6 accounts"), timeout=15)
        [decision] = _decision(bot, cluster_id)
        gate = platform.hold("POST", f"{ADMIN}90003/unsuspend", after=True)
        bot.slack.click(ids.UNDO, ids.button_value(cluster_id, decision.id), "UMOD2", ts)
        gate.wait()
        bot.kill()
        gate.release()

        bot.start()
        wait_for(_stamped(fake_slack, ts, "undid the last decision"), timeout=30)
    finally:
        assert bot.stop() == 0
    assert all(admin.times(voter, "suspend") == admin.times(voter, "unsuspend") == 1 for voter in VOTERS)
    original, undo = _decision(bot, cluster_id)
    assert (original.status, undo.action, undo.status) == ("undone", "unsuspend", "done")
    store = bot.store()
    assert store.cluster_view(cluster_id).status == "open"
    store.close()
