"""Digests in Slack: the message and its PNG chart reach the digest channel, once per period."""

from __future__ import annotations

from datetime import timedelta

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
    assert complete.params["channel_id"] == "CLEADS" and file_id in complete.params["files"]


def test_digest_preview_is_ephemeral_and_posts_nothing(harness):
    seed_cluster(harness.store, "h", 3)
    harness.announce()
    before = len(harness.fake.calls)
    reply = harness.slack.command("digest", "UMOD1")
    assert reply.status_code == 200 and reply.json()["text"].startswith("Chorus digest")
    assert reply.json().get("response_type", "ephemeral") == "ephemeral"
    assert len(harness.fake.calls) == before  # answered in the acknowledgement: nothing posted to the channel
    assert "takes no argument" in harness.slack.command("digest 7d", "UMOD1").text
