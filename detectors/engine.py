"""Detection entry points: `detect` over a batch and `WindowIndex` for the rolling poll window.

Both run the same incremental machinery: a content index whose changed components are re-judged,
a co-posting merge across groups, scoring, and a pass that gives each account one cluster.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from detectors.accounts import account_signals
from detectors.bulk import gc_paused
from detectors.coposting import CoPosting
from detectors.index import ContentIndex, digest
from detectors.scoring import score_group
from detectors.texts import PreparedTexts
from domain.models import Cluster, Post

COMPACT_DEAD_SHARE = 0.25
"""The window index is compacted once this share of its content nodes has no live post left."""
CHECK_MIN_EXPIRED = 1000
"""Dead nodes are counted after this many expirations, or a sixteenth of the window if more."""


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """Tunable thresholds; the defaults are what `scan` reports and the bot posts."""

    window_hours: float = 24.0
    min_accounts: int = 3
    min_score: float = 0.5
    new_account_days: float = 30.0
    bunch_days: float = 7.0
    low_followers: int = 10


class _Detector:
    """A content index plus the content groups it currently holds, refreshed only where it changed."""

    def __init__(self, settings: DetectionSettings) -> None:
        self.settings = settings
        self.index = ContentIndex()
        self._groups: dict[int, list[Post]] = {}
        self._scored: dict[int, Cluster] = {}
        self._merged: dict[tuple[int, ...], Cluster | None] = {}
        self._coposting = CoPosting(settings.min_accounts)
        self._trims: dict[tuple[int, frozenset[str]], tuple[Cluster, Cluster | None]] = {}
        """Trimmed clusters of the last call, by (candidate identity, accounts kept); see `clusters`."""

    def compact(self) -> None:
        """Compact the index; its components are renumbered, so every group is judged afresh."""
        self.index.compact()
        self._groups, self._scored, self._merged, self._trims = {}, {}, {}, {}
        self._coposting = CoPosting(self.settings.min_accounts)

    def _refresh(self) -> None:
        """Re-read the groups whose components changed; keep co-posting links and caches in step."""
        index, min_accounts = self.index, self.settings.min_accounts
        members, node_posts, groups = index.members, index.node_posts, self._groups
        # a lone node with too few posts that was no group before has nothing to re-read
        changed = [root for root in index.dirty
                   if root in members or root in groups or len(node_posts[root]) >= min_accounts]
        for root in changed:
            self._scored.pop(root, None)
            posts = []
            if index.parent[root] == root and index.potential_posts(root) >= min_accounts:
                posts = index.component_posts(root)
            accounts = frozenset(post.author.id for post in posts)
            if len(accounts) >= min_accounts:
                self._groups[root] = posts
                self._coposting.update(root, accounts if index.specific(root) else None)
            elif self._groups.pop(root, None) is not None:
                self._coposting.update(root, None)
        for root in [root for root in self._groups if index.parent[root] != root]:
            del self._groups[root]
            self._scored.pop(root, None)
            self._coposting.update(root, None)
            changed.append(root)
        index.dirty.clear()
        if changed:
            stale = set(changed)
            self._merged = {roots: c for roots, c in self._merged.items() if stale.isdisjoint(roots)}

    def _cluster(self, posts: list[Post], messages: int) -> Cluster:
        settings, index = self.settings, self.index
        posts = sorted(posts, key=lambda post: (post.created_at, post.id))
        text_nodes: set[int] = set()
        media_accounts: dict[int, set[str]] = {}
        for post in posts:
            for node in index.nodes_of_post(post.id):
                if index.is_text(node):
                    text_nodes.add(node)
                else:
                    media_accounts.setdefault(node, set()).add(post.author.id)
        shared = sorted(index.node_key[n][2:] for n, accounts in media_accounts.items()
                        if len(accounts) >= settings.min_accounts)
        signals = account_signals(
            posts, settings.new_account_days, settings.bunch_days, settings.low_followers,
            settings.window_hours / 24,
        )
        scored = score_group(
            posts, signals, messages=messages, distinct_texts=len(text_nodes),
            similarity="identical" if len(text_nodes) <= 1 else "near-identical",
            window_seconds=settings.window_hours * 3600, new_account_days=settings.new_account_days,
            bunch_days=settings.bunch_days, shared_media=len(shared),
        )
        return Cluster(
            key=digest(index.node_key[index.nodes_of_post(posts[0].id)[0]]),
            score=scored.score,
            accounts=list(dict.fromkeys(post.author.id for post in posts)),
            posts=[post.id for post in posts],
            reasons=scored.reasons,
            sample_text=next((post.text for post in posts if post.text.strip()), ""),
            first_seen=posts[0].created_at,
            last_seen=posts[-1].created_at,
            distinct_texts=len(text_nodes),
            media=[key for key in shared if len(key) == 64],
            signals=scored.signals,
        )

    def _co_posted(self, roots: tuple[int, ...]) -> Cluster | None:
        """The cluster of linked groups, holding only the accounts that posted two or more of them.

        An account seen behind one of the messages only is not shown to be co-posting; it stays
        with that message's own group, so a stock phrase cannot pull it into a campaign.
        """
        groups = [self._groups[root] for root in roots]
        seen_in: Counter[str] = Counter(account for posts in groups
                                        for account in {post.author.id for post in posts})
        posters = {account for account, count in seen_in.items() if count >= 2}
        if len(posters) < self.settings.min_accounts:
            return None
        kept = [[post for post in posts if post.author.id in posters] for posts in groups]
        return self._cluster([post for posts in kept for post in posts], messages=sum(1 for p in kept if p))

    def _candidates(self) -> list[Cluster]:
        """Every group on its own, plus each set of co-posted groups as one cluster of its co-posters."""
        candidates = []
        for roots in map(tuple, self._coposting.merged()):
            if roots not in self._merged:
                self._merged[roots] = self._co_posted(roots)
            if self._merged[roots] is not None:
                candidates.append(self._merged[roots])
        for root, posts in self._groups.items():
            if root not in self._scored:
                self._scored[root] = self._cluster(posts, messages=1)
            candidates.append(self._scored[root])
        return candidates

    def clusters(self) -> list[Cluster]:
        """Clusters at or above min_score, highest first, each account in at most one.

        A candidate sharing accounts with a better one is re-scored on its remaining accounts; the
        trimmed result is kept while the candidate and what it keeps stay the same, so a poll
        re-scores only what changed.
        """
        self._refresh()
        settings = self.settings
        candidates = sorted((c for c in self._candidates() if c.score >= settings.min_score),
                            key=lambda c: (-c.score, c.key))
        taken: set[str] = set()
        chosen: list[Cluster] = []
        trims: dict[tuple[int, frozenset[str]], tuple[Cluster, Cluster | None]] = {}
        for candidate in candidates:
            if taken.isdisjoint(candidate.accounts):
                taken.update(candidate.accounts)
                chosen.append(candidate)
                continue
            free = frozenset(candidate.accounts).difference(taken)
            if len(free) < settings.min_accounts:
                continue
            key = (id(candidate), free)
            _, trimmed = trims[key] = self._trims.get(key) or (candidate, self._trimmed(candidate, free))
            if trimmed is not None:
                taken.update(trimmed.accounts)
                chosen.append(trimmed)
        self._trims = trims
        chosen.sort(key=lambda c: (-c.score, c.key))
        return chosen

    def _trimmed(self, candidate: Cluster, free: frozenset[str]) -> Cluster | None:
        """The candidate re-scored on the posts of its `free` accounts, if it still reaches min_score."""
        posts = self.index.posts
        kept = [posts[pid] for pid in candidate.posts if posts[pid].author.id in free]
        trimmed = self._cluster(kept, messages=1 if candidate.signals["coposting"] == 0 else 3)
        return trimmed if trimmed.score >= self.settings.min_score else None


def detect(
    posts: Sequence[Post], settings: DetectionSettings | None = None, prepared: PreparedTexts | None = None
) -> list[Cluster]:
    """Find clusters worth a moderator's look, highest score first.

    Each account stands in at most one cluster: the highest-scoring one it belongs to. `prepared`
    may hold the posts' texts normalised and MinHashed ahead of time (see `detectors.texts`).
    """
    detector = _Detector(settings or DetectionSettings())
    with gc_paused():
        detector.index.add(posts, prepared)
        return detector.clusters()


class WindowIndex:
    """The posts of the rolling detection window; posts are added as polled and expire by age.

    Time is the newest post's time, not the wall clock, so replays and backfills behave alike.
    Adding a batch indexes only the new posts and re-judges only the groups they touch. Once a
    quarter of the content nodes have no live post, the index is compacted in place: memory stays
    proportional to the window, and joins made only through expired posts are undone.
    """

    def __init__(self, settings: DetectionSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        self._detector = _Detector(self.settings)
        self._expiry: list[tuple[datetime, str]] = []
        self._expired_since_check = 0
        self.newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._detector.index.posts)

    def add(self, posts: Iterable[Post]) -> None:
        """Add posts (idempotent by post id) and drop those older than the window."""
        with gc_paused():
            fresh = [post for post in posts if post.id not in self._detector.index.posts]
            self._detector.index.add(fresh)
            for post in fresh:
                heapq.heappush(self._expiry, (post.created_at, post.id))
                if self.newest is None or post.created_at > self.newest:
                    self.newest = post.created_at
            if self.newest is None:
                return
            horizon = self.newest - timedelta(hours=self.settings.window_hours)
            expired = []
            while self._expiry and self._expiry[0][0] < horizon:
                expired.append(heapq.heappop(self._expiry)[1])
            index = self._detector.index
            index.remove(expired)
            self._expired_since_check += len(expired)
            if self._expired_since_check >= max(len(self) // 16, CHECK_MIN_EXPIRED):
                self._expired_since_check = 0
                if index.dead_nodes > COMPACT_DEAD_SHARE * len(index.node_key):
                    self._detector.compact()

    def clusters(self) -> list[Cluster]:
        """Clusters among the posts now in the window."""
        with gc_paused():
            return self._detector.clusters()
