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

from domain.views import ClusterChange, ClusterView, Digest
from handlers.blocks import cluster_card, digest_message, escape, growth_reply
from handlers.chart import digest_chart
from handlers.send_queue import UPLOAD, SendQueue

log = logging.getLogger("chorus.slack")


class SlackNotifier:
    """Posts through a `SendQueue`, so Slack's rate limits and errors are handled in one place."""

    def __init__(self, sender: SendQueue, channel: str, undo_minutes: float, clock: Callable[[], datetime],
                 digest_channel: str = "") -> None:
        self.sender = sender
        self.channel = channel
        self.digest_channel = digest_channel or channel
        self.undo_minutes = undo_minutes
        self.clock = clock

    def publish(self, view: ClusterView, change: ClusterChange) -> tuple[str | None, str | None]:
        """Post a new card, or update a grown cluster's card and reply in its thread."""
        card = cluster_card(view, self.clock(), self.undo_minutes)
        earlier = change.earlier_attempt.timestamp() if change.earlier_attempt else None
        if change.kind == "grown" and view.channel and view.message_ts:
            self.sender.call("chat.update", channel=view.channel, ts=view.message_ts, **card)
            self.sender.post_once(f"growth:{view.id}:{len(view.accounts)}:{view.post_count}", earlier,
                                  channel=view.channel, thread_ts=view.message_ts, unfurl_links=False,
                                  **growth_reply(view, change))
            return view.channel, view.message_ts
        posted = self.sender.post_once(f"card:{view.id}", earlier, channel=self.channel, unfurl_links=False, **card)
        if posted.get("found"):  # an earlier run posted it: bring it up to date instead of posting a copy
            self.sender.call("chat.update", channel=posted["channel"], ts=posted["ts"], **card)
        return posted["channel"], posted["ts"]

    def digest(self, digest: Digest) -> None:
        """Post a digest, then its chart as a PNG, to the digest channel."""
        # a digest cannot have been posted before its period ended: an earlier copy is looked for since then
        posted = self.sender.post_once(f"digest:{digest.since.isoformat()}:{digest.until.isoformat()}",
                                       digest.until.timestamp(), channel=self.digest_channel,
                                       **digest_message(digest))
        if posted.get("found"):
            return
        self.sender.call(UPLOAD, channel=self.digest_channel, content=digest_chart(digest),
                         filename=f"chorus-digest-{digest.until:%Y%m%d-%H%M}.png",
                         title=f"Flagged per {'hour' if digest.bucket_hours == 1 else 'day'}",
                         alt_txt="Clusters and accounts flagged over the digest period")

    def notice(self, text: str) -> None:
        """Post a notice to the moderators' channel without waiting: Slack itself may be what is failing."""
        sent = self.sender.submit("chat.postMessage", channel=self.channel, text=f":warning: {escape(text)}")
        sent.add_done_callback(_log_failed_notice)


def _log_failed_notice(sent: Future) -> None:
    if sent.exception() is not None:
        log.error("a notice could not be posted to Slack: %s", sent.exception())
