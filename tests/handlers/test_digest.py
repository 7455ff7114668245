"""Digests in Slack: the message and its PNG chart reach the digest channel, once per period."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError

from service.config import DigestConfig
from service.digests import digest_plans, post_due_digest
from storage.database import utcnow
from tests.conftest import seed_cluster


def test_digest_is_posted_with_its_chart_once_per_period(harness):
    seed_cluster(harness.store, "g", 4, text="Claim your free gift card now")
    harness.announce()
    harness.store.clock = lambda: utcnow() + timedelta(days=1)  # the next 09:00 digest has come: it covers now
    [plan] = digest_plans(DigestConfig(daily="09:00"))
    assert post_due_digest(harness.store, harness.runtime.notifier, plan)
    assert not post_due_digest(harness.store, harness.runtime.notifier, plan)  # same period: never twice

    [message] = [c for c in harness.fake.of("chat.postMessage") if c.params["channel"] == "CLEADS"]
    assert message.params["text"].startswith("Chorus digest")
    assert "Waiting for a decision: 1 cluster" in message.params["blocks"][0]["text"]["text"]
    [ticket] = harness.fake.of("files.getUploadURLExternal")
    assert ticket.params["filename"].startswith("chorus-digest-") and ticket.params["filename"].endswith(".png")
    [(file_id, png)] = harness.fake.uploads.items()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and int(ticket.params["length"]) == len(png)
    [complete] = harness.fake.of("files.completeUploadExternal")
    assert "channel_id" not in complete.params and file_id in complete.params["files"]  # shown by the message
    [image] = [b for b in message.params["blocks"] if b["type"] == "image"]
    assert image["slack_file"] == {"id": file_id}


def test_a_digest_cut_short_after_its_chart_keeps_that_chart(harness):
    """The chart goes up first and is recorded; the message fails (as if the bot died before it); the retry
    posts the message once, showing the chart already uploaded, and uploads nothing more."""
    seed_cluster(harness.store, "c", 3)
    harness.announce()
    harness.store.clock = lambda: utcnow() + timedelta(days=1)
    [plan] = digest_plans(DigestConfig(daily="09:00"))
    harness.fake.script("chat.postMessage", 200, {"ok": False, "error": "fatal_error"})
    with pytest.raises(SlackApiError):
        post_due_digest(harness.store, harness.runtime.notifier, plan)
    [(file_id, _)] = harness.fake.uploads.items()
    assert harness.fake.channel_messages("CLEADS") == []
    assert post_due_digest(harness.store, harness.runtime.notifier, plan)
    [posted] = harness.fake.channel_messages("CLEADS")
    assert [b["slack_file"] for b in posted["blocks"] if b["type"] == "image"] == [{"id": file_id}]
    assert len(harness.fake.uploads) == 1 and len(harness.fake.of("files.completeUploadExternal")) == 1


def test_digest_names_clusters_nobody_claimed(harness):
    flagged = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # six hours before the digest's 09:00, whatever the wall clock
    harness.store.clock = lambda: flagged
    old = seed_cluster(harness.store, "u", 3)
    taken = seed_cluster(harness.store, "t", 3, text="another campaign entirely")
    harness.announce()
    harness.store.swap_claim(taken, None, "UMOD1")
    harness.store.clock = lambda: flagged + timedelta(days=1)
    [plan] = digest_plans(DigestConfig(daily="09:00", unclaimed_hours=2))
    assert post_due_digest(harness.store, harness.runtime.notifier, plan)
    [message] = [c for c in harness.fake.of("chat.postMessage") if c.params["channel"] == "CLEADS"]
    assert "Nobody has claimed for over 2 h: 1 cluster" in json.dumps(message.params["blocks"])
    [named] = [b["text"]["text"] for b in message.params["blocks"] if "*Unclaimed" in b.get("text", {}).get("text", "")]
    assert f"/archives/CMOD/p{harness.card_ts(old).replace('.', '')}|{old}>" in named and taken not in named


def test_digest_preview_is_ephemeral_and_posts_nothing(harness):
    seed_cluster(harness.store, "h", 3)
    harness.announce()
    before = len(harness.fake.calls)
    reply = harness.slack.command("digest", "UMOD1")
    assert reply.status_code == 200 and reply.json()["text"].startswith("Chorus digest")
    assert reply.json().get("response_type", "ephemeral") == "ephemeral"
    assert len(harness.fake.calls) == before  # answered in the acknowledgement: nothing posted to the channel
    assert "takes no argument" in harness.slack.command("digest 7d", "UMOD1").text
