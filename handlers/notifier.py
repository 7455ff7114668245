"""The Slack notifier: cluster cards and digests posted to the moderators' channel.

Implements `service.notify.Notifier`, so the poller announces clusters the same way in console
and Slack mode. A grown cluster's card is updated in place and the growth told in its thread.
Cards, growth replies and digests are posted at most once (`SendQueue.post_once`), so neither a
crash before their ts is stored nor a timed-out post puts a second copy in the channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

from domain.views import CardOptions, ClusterChange, ClusterView, Digest, LateBatch
from handlers.blocks import (
    DEFAULT_OPTIONS,
    chart_title,
    cluster_card,
    digest_message,
    escape,
    growth_reply,
    late_reply,
)
from handlers.chart import digest_chart
from handlers.send_queue import UPLOAD, SendQueue

log = logging.getLogger("chorus.slack")


class SlackNotifier:
    """Posts through a `SendQueue`, so Slack's rate limits and errors are handled in one place."""

    def __init__(self, sender: SendQueue, channel: str, undo_minutes: float, clock: Callable[[], datetime],
                 digest_channel: str = "", options: CardOptions = DEFAULT_OPTIONS) -> None:
        self.sender = sender
        self.channel = channel
        self.digest_channel = digest_channel or channel
        self.undo_minutes = undo_minutes
        self.clock = clock
        self.options = options

    def publish(self, view: ClusterView, change: ClusterChange) -> tuple[str | None, str | None]:
        """Post a new card, or update a grown cluster's card and reply in its thread."""
        card = cluster_card(view, self.clock(), self.undo_minutes, options=self.options)
        earlier = change.earlier_attempt.timestamp() if change.earlier_attempt else None
        if change.kind == "grown" and view.channel and view.message_ts:
            self.sender.call("chat.update", channel=view.channel, ts=view.message_ts, **card)
            self.sender.post_once(f"growth:{view.id}:{len(view.accounts)}:{view.post_count}", earlier,
                                  channel=view.channel, thread_ts=view.message_ts, unfurl_links=False,
                                  **growth_reply(view, change, self.options))
            return view.channel, view.message_ts
        posted = self.sender.post_once(f"card:{view.id}", earlier, channel=self.channel, unfurl_links=False, **card)
        if posted.get("found"):  # an earlier run posted it: bring it up to date instead of posting a copy
            self.sender.call("chat.update", channel=posted["channel"], ts=posted["ts"], **card)
        return posted["channel"], posted["ts"]

    def publish_batch(self, view: ClusterView, batch: LateBatch) -> tuple[str | None, str | None]:
        """Reply in the card's thread with a batch of accounts outside its decision and their own buttons (posted at
        most once: the thread is searched first, the batch may have been posted before a crash)."""
        earlier = batch.created_at.timestamp() if batch.created_at else None
        posted = self.sender.post_once(f"batch:{batch.id}", earlier, channel=view.channel, thread_ts=view.message_ts,
                                       unfurl_links=False,
                                       **late_reply(view, batch, self.clock(), self.undo_minutes, self.options))
        return posted["channel"], posted["ts"]

    def digest_chart(self, digest: Digest) -> str:
        """Upload the digest's chart as a PNG shared nowhere yet; returns its file id for the message to show."""
        return upload_chart(self.sender, digest, f"chorus-digest-{digest.until:%Y%m%d-%H%M}.png")

    def digest(self, digest: Digest, chart: str | None = None) -> None:
        """Post a digest, with its chart inline, to the digest channel."""
        # a digest cannot have been posted before its period ended: an earlier copy is looked for since then
        self.sender.post_once(f"digest:{digest.since.isoformat()}:{digest.until.isoformat()}",
                              digest.until.timestamp(), channel=self.digest_channel, **digest_message(digest, chart))

    def notice(self, text: str) -> None:
        """Post a notice to the moderators' channel without waiting: Slack itself may be what is failing."""
        sent = self.sender.submit("chat.postMessage", channel=self.channel, text=f":warning: {escape(text)}")
        sent.add_done_callback(_log_failed_notice)


def upload_chart(sender: SendQueue, digest: Digest, filename: str) -> str:
    """Upload a digest's chart without sharing it in a channel (a message or Home shows it); returns the file id."""
    uploaded = sender.call(UPLOAD, content=digest_chart(digest), filename=filename, title=chart_title(digest),
                           alt_txt=chart_title(digest))
    return uploaded["files"][0]["id"]


def _log_failed_notice(sent: Future) -> None:
    if sent.exception() is not None:
        log.error("a notice could not be posted to Slack: %s", sent.exception())
