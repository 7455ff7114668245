"""The platform failing: 500s, 429s, timeouts, truncated and malformed JSON, wrong-typed fields. The bot keeps
running, tells the moderators once, says when it is over, and catches up without losing a post."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from platforms.http import HttpClient, HttpSettings
from platforms.mastodon import TIMELINE, MastodonSource
from platforms.paging import FeedSettings
from tests.platform_server import FakePlatform, Reply, Request, Timeline, campaign_timeline, recorded_statuses
from tests.slack_fakes import wait_for

FAULTS = [
    Reply(500, {"error": "boom"}),
    Reply(429, {"error": "Too many requests"}, {"retry-after": "0"}),
    Reply(200, raw=b'[{"id": "1", "content": '),  # truncated
    Reply(200, raw=b"<html>maintenance</html>", headers={"content-type": "text/html"}),  # not JSON at all
    Reply(200, {"error": "an object where a list belongs"}),
    Reply(200, [], delay=1.0),  # slower than the client waits
]


@pytest.mark.slow
def test_an_outage_of_every_kind_is_reported_once_then_the_bot_catches_up(tmp_path: Path, slack_bot, fake_slack):
    platform = FakePlatform()
    statuses = campaign_timeline(datetime.now(UTC))
    timeline = Timeline(statuses, page_size=40)
    state = {"down": True, "faults": 0}
    cycle = itertools.cycle(FAULTS)

    def flaky(request: Request) -> Reply:
        if state["down"]:
            state["faults"] += 1
            return next(cycle)
        return timeline(request)

    platform.route("GET", TIMELINE, flaky)
    bot = slack_bot(tmp_path, fake_slack, platform.url, http={"timeout_seconds": 0.5, "retries": 0}).start()
    try:
        wait_for(lambda: state["faults"] >= 2 * len(FAULTS), timeout=30)  # every fault, more than once
        notices = [m["text"] for m in fake_slack.channel_messages("CMOD") if "poll is failing" in m["text"]]
        assert len(notices) == 1 and "PlatformError" in notices[0]
        state["down"] = False
        bot.card(fake_slack, "Candidate X")
        wait_for(lambda: [m for m in fake_slack.channel_messages("CMOD") if "poll works again" in m["text"]])
    finally:
        assert bot.stop() == 0
        platform.close()
    texts = [m["text"] for m in fake_slack.channel_messages("CMOD")]
    assert sum("poll is failing" in t for t in texts) == 1 and sum("poll works again" in t for t in texts) == 1
    store = bot.store()
    assert sorted(row[0] for row in store.db.execute("SELECT id FROM posts")) == sorted(s["id"] for s in statuses)
    store.close()
    assert "Traceback" not in bot.log()


def test_wrong_typed_records_are_skipped_and_the_rest_of_the_page_is_read(tmp_path: Path):
    statuses = recorded_statuses()
    broken = [copy.deepcopy(statuses[i]) for i in range(6)]
    broken[0]["account"] = "not an object"
    broken[1]["content"] = 12345
    broken[2]["reblog"] = "a string where a status belongs"
    broken[3]["created_at"] = {"nested": ["time"]}
    broken[4]["media_attachments"] = "x"
    broken[5]["account"] = {**broken[5]["account"], "id": ["a", "list"], "statuses_count": "many"}
    top = int(statuses[0]["id"])
    for offset, status in enumerate(broken, start=1):
        status["id"] = str(top + offset)
    platform = FakePlatform()
    platform.route("GET", TIMELINE, Timeline(sorted(statuses + broken, key=lambda s: int(s["id"]), reverse=True)))
    try:
        client = HttpClient("mastodon", platform.url, HttpSettings(timeout_seconds=2, retries=0))
        source = MastodonSource(client, "public", FeedSettings(backfill_hours=24 * 3650))
        result = source.fetch(None, 1000)
    finally:
        platform.close()
    assert len(result.posts) == len(statuses)
    assert sorted(s.where for s in result.skipped) == sorted(f"mastodon record {s['id']!r}" for s in broken)
    assert json.dumps([s.problem for s in result.skipped])  # each names its problem
