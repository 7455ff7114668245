"""One poll of the pipeline: source -> storage -> detectors -> storage -> notifier.

Each step commits before the next starts, and the notifier works from storage's outbox of
unannounced cluster members, so a crash at any point is repaired by the next poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from detectors import WindowIndex
from domain.models import Post
from domain.views import BatchKind, ClusterChange
from platforms.base import Refreshing, Source
from service.enrichment import fill_in_accounts
from service.fingerprints import flag_known_campaigns
from service.notify import Notifier
from storage import Store

log = logging.getLogger("chorus.poll")


class AnnounceError(RuntimeError):
    """Some cards could not be posted; they stay in the outbox for the next poll."""


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
    filled: int = 0
    """Accounts whose missing facts were looked up and filled in (their clusters scored again)."""


class Poller:
    """Runs polls against one source; `stop` (a threading.Event) is honoured between steps.

    Posts a platform pushes (Mastodon's webhooks) are stored at once by `push` and detected by `take_pushed`,
    between polls: the scheduled poll stays as the catch-up, and a post seen both ways is stored once. `examine`,
    when given, looks up what the platform knows about announced clusters (open reports, siblings, a remote
    domain's follows) after each poll's detection.
    """

    def __init__(self, store: Store, source: Source, index: WindowIndex, notifier: Notifier,
                 batch_size: int = 5000, stop: threading.Event | None = None,
                 examine: Callable[[], object] | None = None) -> None:
        self.store = store
        self.source = source
        self.index = index
        self.notifier = notifier
        self.batch_size = batch_size
        self.stop = stop or threading.Event()
        self.examine = examine
        self._warmed = False
        self._window_detected = True
        self._steps = threading.Lock()
        """Held by a poll and by a detection of pushed posts: the window is changed by one at a time."""
        self._pushed: list[Post] = []
        self._pushed_lock = threading.Lock()

    def warm(self) -> None:
        """Load the detection window from storage, so a restart sees what it saw before.

        The loaded posts are detected once more at the next poll even if it brings nothing new:
        a run stopped between storing a batch and recording its clusters must not lose them.
        """
        newest = self.store.newest_post_time()
        if newest is not None:
            self.index.add(self.store.posts_since(newest - timedelta(hours=self.index.settings.window_hours)))
            self._window_detected = False
        self._warmed = True

    def poll_once(self) -> PollStats | None:
        """Fetch one batch, store it with its cursor, detect, record clusters, announce changes.

        Returns None when stopped before finishing; the next poll picks up where this one left.
        """
        with self._steps:
            return self._poll()

    def push(self, posts: Sequence[Post]) -> int:
        """Store posts the platform pushed (and flag those carrying a known campaign's content) at once, in one
        transaction; `take_pushed` detects them. Returns how many were new: one the poll stored already is not
        stored again, nor is one the poll reads later."""
        with self.store.atomic():
            new = self.store.ingest(self.source.name, posts, None, keep_cursor=True)
            flag_known_campaigns(self.store, posts)
        with self._pushed_lock:
            self._pushed.extend(posts)
        return new

    def take_pushed(self) -> int:
        """Detect the posts pushed since the last call and announce what changed (a campaign is on Slack seconds
        after its posts); returns how many posts were taken. After a crash, `warm` detects them again."""
        with self._pushed_lock:
            posts, self._pushed = self._pushed, []
        if not posts:
            return 0
        with self._steps:
            if not self._warmed:
                self.warm()
            self.index.add(posts)
            changed = self.store.sync_clusters(self.index.clusters())
            notified = self.announce()
        log.info("pushed: posts=%d clusters_changed=%d notified=%d", len(posts), changed, notified)
        return len(posts)

    def _poll(self) -> PollStats | None:
        if not self._warmed:
            self.warm()
        started = time.perf_counter()
        batch = self.source.fetch(self.store.cursor(self.source.name), self.batch_size)
        for skipped in batch.skipped:
            log.warning("skipped %s: %s", skipped.where, skipped.problem)
        with self.store.atomic():
            new = self.store.ingest(self.source.name, batch.posts, batch.next_cursor, len(batch.skipped))
            flag_known_campaigns(self.store, batch.posts)
        for notice in batch.notices:
            log.warning("%s: %s", self.source.name, notice)
            self.notifier.notice(notice)
        if self.stop.is_set():
            return None
        changed = 0
        if batch.posts or not self._window_detected:
            self.index.add(batch.posts)
            clusters = self.index.clusters()
            if self.stop.is_set():
                return None
            changed = self.store.sync_clusters(clusters)
            self._window_detected = True
        filled = fill_in_accounts(self.store, self.source, self.index)
        if filled and not self.stop.is_set():
            changed += self.store.sync_clusters(self.index.clusters(), rescore=True)
        if self.examine is not None and not self.stop.is_set():
            self.examine()
        notified = self.announce()
        stats = PollStats(len(batch.posts), new, len(batch.skipped), len(self.index), changed, notified,
                          time.perf_counter() - started, batch.exhausted, filled)
        log.info(
            "poll: fetched=%d new=%d skipped=%d window=%d clusters_changed=%d notified=%d accounts_filled=%d in %.2fs",
            stats.fetched, stats.new, stats.skipped, stats.window, stats.changed, stats.notified, stats.filled,
            stats.seconds,
        )
        return stats

    def announce(self) -> int:
        """Hand every new or grown cluster to the notifier and record that it was announced.

        The attempt is noted first, so a card posted just before a crash is found, not posted
        again. One card Slack refuses does not hold back the others; it stays in the outbox and
        the poll reports the failure.
        """
        sent = 0
        failures: list[str] = []
        changes = self.store.unnotified()
        self._refresh_accounts(changes)
        for change in changes:
            if self.stop.is_set():
                break
            view = self.store.cluster_view(change.cluster_id)
            if view is None:
                continue
            flagged = self.store.batched_accounts(view.id, (BatchKind.KNOWN_CAMPAIGN, BatchKind.SIBLINGS))
            late = [account for account in change.added_accounts if account not in flagged]
            if change.kind == "grown" and late and view.live_decision is not None:
                # accounts the decision does not cover: the notifier offers them their own buttons
                batch = self.store.record_late_batch(view.id, late)
                change = replace(change, late_batch=batch, late_accounts=tuple(late))
            self.store.begin_announcement(change.cluster_id)
            try:
                where = self.notifier.publish(view, change)
            except Exception as error:  # the next card may well go through; this one is retried next poll
                log.warning("cluster %s not announced: %s: %s", change.cluster_id, type(error).__name__, error)
                failures.append(f"{type(error).__name__}: {error}")
                continue
            self.store.mark_notified(change.cluster_id, *where, shown_version=view.card_version)
            sent += 1
        sent += self._announce_batches(failures)
        if failures:
            raise AnnounceError(f"{len(failures)} of {len(failures) + sent} cluster announcements failed "
                                f"and will be retried (first: {failures[0]})")
        return sent

    def _announce_batches(self, failures: list[str]) -> int:
        """Reply under posted cards with the batches of known-campaign posters and siblings found since; a batch whose
        card is not posted yet waits for it."""
        sent = 0
        for batch in self.store.unannounced_batches():
            view = self.store.cluster_view(batch.cluster_id)
            if self.stop.is_set() or view is None or not view.message_ts:
                continue
            try:
                channel, ts = self.notifier.publish_batch(view, batch)
            except Exception as error:  # retried at the next poll; the thread is searched before posting again
                log.warning("batch %d of %s not announced: %s: %s", batch.id, view.id, type(error).__name__, error)
                failures.append(f"{type(error).__name__}: {error}")
                continue
            if channel and ts:
                self.store.note_late_reply(batch.id, channel, ts)
            sent += 1
        return sent

    def _refresh_accounts(self, changes: list[ClusterChange]) -> None:
        """Read the accounts a card is about to show afresh, when the source can (Bluesky's AppView): the
        facts cached when their posts came in may be hours old. A failure leaves the facts as they were."""
        accounts = sorted({account for change in changes for account in change.added_accounts})
        if not accounts or not isinstance(self.source, Refreshing):
            return
        try:
            authors = self.source.refresh_authors(accounts)
        except Exception as error:  # the card goes out with the facts already stored
            log.warning("accounts not refreshed before announcing: %s: %s", type(error).__name__, error)
            return
        self.store.update_accounts(authors)

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
