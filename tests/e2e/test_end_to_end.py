"""The whole bot as a user runs it: `bot.py run` polls a fake Mastodon, posts the campaign's card to a
fake Slack, and a moderator's signed Suspend click reaches Mastodon's admin API, once per account.

The campaign is the hard kind: 14 accounts one to three months old, each posting a random two or
three of four pre-written messages with light edits, most with the same picture (which the bot
downloads and hashes), among 60 old accounts posting real tweets."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers import ids
from platforms.mastodon import TIMELINE
from storage import Store
from tests.conftest import SIGNING_SECRET
from tests.platform_server import CAMPAIGN_IMAGE, FakePlatform, Reply, Timeline, flyer_png, pool_campaign_timeline
from tests.slack_fakes import wait_for


@pytest.fixture
def mastodon() -> Iterator[FakePlatform]:
    platform = FakePlatform()
    platform.route("GET", TIMELINE, Timeline(pool_campaign_timeline(datetime.now(UTC), platform.url), page_size=40))
    platform.route("GET", CAMPAIGN_IMAGE, Reply(200, raw=flyer_png(), headers={"content-type": "image/png"}))
    for index in range(14):
        platform.route("POST", f"/api/v1/admin/accounts/9000{index}/action", Reply(200, {}))
    yield platform
    platform.close()


def test_a_mastodon_campaign_is_carded_in_slack_and_suspended_on_mastodon(tmp_path: Path, mastodon, fake_slack,
                                                                           bot_process):
    config = tmp_path / "chorus.toml"
    config.write_text(
        f'[storage]\npath = "chorus.db"\n[source]\nkind = "mastodon"\npoll_seconds = 0.5\n'
        f'[mastodon]\nbase_url = "{mastodon.url}"\n'
        f'[slack]\nchannel = "CMOD"\nmoderators = ["UMOD1"]\nport = 0\nsend_interval_seconds = 0.0\n'
    )
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-e2e", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": fake_slack.url, "MASTODON_ACCESS_TOKEN": "mastodon-e2e-token"}
    bot = bot_process(tmp_path, env).start()
    try:
        def campaign_card():
            return next((c for c in fake_slack.of("chat.postMessage") if "voter" in json.dumps(c.params)), None)

        card = wait_for(campaign_card, timeout=30)
        buttons = [element for block in card.params["blocks"] if block["type"] == "actions"
                   for element in block["elements"]]
        suspend = next(button for button in buttons if button["action_id"] == ids.SUSPEND_ALL)
        blocks = json.dumps(card.params["blocks"])
        assert all(f"@voter{i}" in blocks for i in range(14)) and "@reader" not in blocks
        assert "shared image" in blocks
        store = Store.open(tmp_path / "chorus.db")
        card_ts = wait_for(lambda: store.cluster_view(suspend["value"]).message_ts, timeout=10)
        slack = bot.slack
        assert slack.click(ids.SUSPEND_ALL, suspend["value"], "UMOD1", card_ts).status_code == 200

        def suspended() -> list:
            return [r for r in mastodon.requests if r.method == "POST" and r.path.endswith("/action")]

        actions = wait_for(lambda: len(suspended()) == 14 and suspended(), timeout=15)
        assert sorted(r.path for r in actions) == sorted(f"/api/v1/admin/accounts/9000{i}/action" for i in range(14))
        assert all(r.form()["type"] == "suspend" and r.headers["authorization"] == "Bearer mastodon-e2e-token"
                   for r in actions)
        stamp = wait_for(lambda: next((c for c in fake_slack.of("chat.update")
                                       if "Suspended 14 accounts" in json.dumps(c.params)), None), timeout=15)
        assert stamp.params["ts"] == card_ts
        assert [e.event for e in store.audit_entries()].count("action_ok") == 14
    finally:
        returncode = bot.stop()
        stderr = bot.log()
    assert returncode == 0, stderr
    assert "mastodon-e2e-token" not in stderr and "xoxb-e2e" not in stderr
    assert len([r for r in mastodon.requests if r.path.endswith("/action")]) == 14  # and never again
