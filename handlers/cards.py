"""Cluster cards kept in step with storage: re-rendered in place when a decision moves, and brought up
to date after an update was lost (a crash before it, or Slack failing)."""

from __future__ import annotations

import logging

from domain.views import CardOptions
from handlers.blocks import DEFAULT_OPTIONS, cluster_card, late_reply
from handlers.send_queue import SendQueue
from storage import Store

log = logging.getLogger("chorus.slack")


class StaleCards(RuntimeError):
    """Some cards could not be brought up to date; they stay stale and are tried at the next run."""


class Cards:
    """Updates posted cards through the send queue and records which version each shows."""

    def __init__(self, store: Store, sender: SendQueue, undo_minutes: float,
                 options: CardOptions = DEFAULT_OPTIONS) -> None:
        self.store = store
        self.sender = sender
        self.undo_minutes = undo_minutes
        self.options = options

    def refresh(self, cluster_id: str) -> bool:
        """Re-render a cluster's card in place from what storage now says; returns whether Slack took it.

        A failed update never stops the decision it reports on: the card stays stale in storage and
        `sync_stale` tries again.
        """
        try:
            return self._update(cluster_id)
        except Exception as error:
            log.warning("card of %s not updated, will retry: %s: %s", cluster_id, type(error).__name__, error)
            return False

    def _update(self, cluster_id: str) -> bool:
        view = self.store.cluster_view(cluster_id)
        if not (view and view.channel and view.message_ts):
            return False
        now = self.store.clock()
        self.sender.call("chat.update", channel=view.channel, ts=view.message_ts,
                         **cluster_card(view, now, self.undo_minutes, options=self.options))
        for batch in self.store.late_batches_of(cluster_id):  # the thread replies of batches with their own buttons
            self.sender.call("chat.update", channel=batch.channel, ts=batch.message_ts,
                             **late_reply(view, batch, now, self.undo_minutes, self.options))
        self.store.mark_card_shown(cluster_id, view.card_version)
        return True

    def sync_stale(self) -> int:
        """Update every card whose update was lost; returns how many were.

        Failures are raised together once the others are done, so the job's fault is reported once.
        """
        updated, failures = 0, []
        for cluster_id in self.store.stale_cards():
            try:
                updated += self._update(cluster_id)
            except Exception as error:  # the next card may go through
                failures.append(f"{cluster_id}: {type(error).__name__}: {error}")
        if updated:
            log.info("updated %d stale cards", updated)
        if failures:
            raise StaleCards(f"{len(failures)} cards could not be updated (first: {failures[0]})")
        return updated
