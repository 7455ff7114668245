"""One poll of the pipeline: source -> storage -> detectors -> storage -> notifier.

Each step commits before the next starts, and the notifier works from storage's outbox of
unannounced cluster members, so a crash at any point is repaired by the next poll.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from chorus.notify import Notifier
from detectors import WindowIndex
from platforms.base import Source
from storage import Store

log = logging.getLogger("chorus.poll")


@dataclass(frozen=True, slots=True)
class PollStats:
    """What one poll did, for its log line and for callers that loop until the source is drained."""

    fetched: int
    new: int
    skipped: int
    window: int
    changed: int
    notified: int
    seconds: float
    exhausted: bool


class Poller:
    """Runs polls against one source; `stop` (a threading.Event) is honoured between steps."""

    def __init__(self, store: Store, source: Source, index: WindowIndex, notifier: Notifier,
                 batch_size: int = 5000, stop: threading.Event | None = None) -> None:
        self.store = store
        self.source = source
        self.index = index
        self.notifier = notifier
        self.batch_size = batch_size
        self.stop = stop or threading.Event()
        self._warmed = False

    def warm(self) -> None:
        """Load the detection window from storage, so a restart sees what it saw before."""
        newest = self.store.newest_post_time()
        if newest is not None:
            self.index.add(self.store.posts_since(newest - timedelta(hours=self.index.settings.window_hours)))
        self._warmed = True

    def poll_once(self) -> PollStats | None:
        """Fetch one batch, store it with its cursor, detect, record clusters, announce changes.

        Returns None when stopped before finishing; the next poll picks up where this one left.
        """
        if not self._warmed:
            self.warm()
        started = time.perf_counter()
        batch = self.source.fetch(self.store.cursor(self.source.name), self.batch_size)
        for skipped in batch.skipped:
            log.warning("skipped %s: %s", skipped.where, skipped.problem)
        for notice in batch.notices:
            log.warning("%s: %s", self.source.name, notice)
            self.notifier.notice(notice)
        new = self.store.ingest(self.source.name, batch.posts, batch.next_cursor, len(batch.skipped))
        if self.stop.is_set():
            return None
        changed = 0
        if batch.posts:
            self.index.add(batch.posts)
            clusters = self.index.clusters()
            if self.stop.is_set():
                return None
            changed = self.store.sync_clusters(clusters)
        notified = self.announce()
        stats = PollStats(len(batch.posts), new, len(batch.skipped), len(self.index), changed, notified,
                          time.perf_counter() - started, batch.exhausted)
        log.info(
            "poll: fetched=%d new=%d skipped=%d window=%d clusters_changed=%d notified=%d in %.2fs",
            stats.fetched, stats.new, stats.skipped, stats.window, stats.changed, stats.notified, stats.seconds,
        )
        return stats

    def announce(self) -> int:
        """Hand every new or grown cluster to the notifier and record that it was announced."""
        sent = 0
        for change in self.store.unnotified():
            if self.stop.is_set():
                break
            view = self.store.cluster_view(change.cluster_id)
            if view is None:
                continue
            where = self.notifier.publish(view, change)
            self.store.mark_notified(change.cluster_id, *where)
            sent += 1
        return sent

    def drain(self) -> list[PollStats]:
        """Poll until the source has nothing more (the demo and tests replay whole feeds this way)."""
        polls = []
        while not self.stop.is_set():
            stats = self.poll_once()
            if stats is None:
                break
            polls.append(stats)
            if stats.exhausted:
                break
        return polls
