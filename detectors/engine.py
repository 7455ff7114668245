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
from operator import attrgetter

import msgspec

from detectors.accounts import account_signals, largest_bunch
from detectors.behaviour import behaviour, core_members
from detectors.bulk import gc_paused
from detectors.coposting import MIN_SHARED, CoPosting
from detectors.evasion import disguised
from detectors.index import ContentIndex, digest
from detectors.kinship import MIN_TRAIT, Traits, kin_links
from detectors.scoring import score_group
from detectors.texts import PreparedTexts
from domain.models import Author, Cluster, Post

_BY_TIME = attrgetter("created_at", "id")
_AUTHOR_ID = attrgetter("author.id")
_TEXT = attrgetter("text")

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
    low_followers: int = 10


class _Detector:
    """A content index plus the content groups it currently holds, refreshed only where it changed."""

    def __init__(self, settings: DetectionSettings) -> None:
        self.settings = settings
        self.index = ContentIndex()
        self.population = 0
        """Accounts active in the window: how likely chance overlap between two groups' posters is."""
        self._groups: dict[int, list[Post]] = {}
        """Posts of each component with two or more accounts (a candidate from min_accounts), by root."""
        self._traits: dict[int, Traits] = {}
        """Groups whose accounts were created in one tight batch, for kinship links."""
        self._scored: dict[int, Cluster | None] = {}
        self._merged: dict[tuple[int, ...], Cluster | None] = {}
        self._coposting = CoPosting(lambda: self.population)
        self._trims: dict[tuple[int, frozenset[str]], tuple[Cluster, Cluster | None]] = {}
        """Trimmed clusters of the last call, by (candidate identity, accounts kept); see `clusters`."""

    def compact(self) -> None:
        """Compact the index; its components are renumbered, so every group is judged afresh."""
        self.index.compact()
        self._groups, self._scored, self._merged, self._trims, self._traits = {}, {}, {}, {}, {}
        self._coposting = CoPosting(lambda: self.population)

    def _refresh(self) -> None:
        """Re-read the groups whose components changed; keep co-posting links and caches in step."""
        index = self.index
        members, node_posts, groups = index.members, index.node_posts, self._groups
        # a lone node with too few posts that was no group before has nothing to re-read
        changed = [root for root in index.dirty
                   if root in members or root in groups or len(node_posts[root]) >= MIN_SHARED]
        for root in changed:
            self._scored.pop(root, None)
            posts = []
            if index.parent[root] == root and index.potential_posts(root) >= MIN_SHARED:
                posts = index.component_posts(root)
            accounts = frozenset(post.author.id for post in posts)
            self._traits.pop(root, None)
            if len(accounts) >= MIN_SHARED:
                self._groups[root] = posts
                self._coposting.update(root, accounts if index.specific(root) else None)
                self._note_traits(root, posts)
            elif self._groups.pop(root, None) is not None:
                self._coposting.update(root, None)
        for root in [root for root in self._groups if index.parent[root] != root]:
            del self._groups[root]
            self._traits.pop(root, None)
            self._scored.pop(root, None)
            self._coposting.update(root, None)
            changed.append(root)
        index.dirty.clear()
        if changed:
            stale = set(changed)
            self._merged = {roots: c for roots, c in self._merged.items() if stale.isdisjoint(roots)}

    def _note_traits(self, root: int, posts: list[Post]) -> None:
        """Remember a group's creation batch when it is tight enough to link it to its kin (see `kinship`)."""
        accounts = frozenset(post.author.id for post in posts)
        if len(accounts) < self.settings.min_accounts:
            return
        settings = self.settings
        batch = account_signals(posts, settings.new_account_days, settings.low_followers).batch
        if batch is not None and batch.evidence >= MIN_TRAIT:
            times = [post.created_at.timestamp() for post in posts]
            self._traits[root] = Traits(min(times), max(times), accounts,
                                        (batch.created_from.timestamp(), batch.created_until.timestamp()))

    def _message_of(self, post: Post) -> int:
        """The message a post carries: its text's node, else its first image's."""
        nodes = self.index.nodes_of_post(post.id)
        return nodes[0] if nodes else -1

    def _cluster(self, posts: list[Post], messages: int) -> Cluster | None:
        """The scored cluster of a group's core members, or None when fewer than min_accounts remain."""
        settings, index = self.settings, self.index
        posts, repeating = core_members(posts, self._message_of, settings.min_accounts)
        accounts = list(dict.fromkeys(post.author.id for post in sorted(posts, key=_BY_TIME)))
        if len(accounts) < settings.min_accounts:
            return None
        posts = sorted(posts, key=_BY_TIME)
        text_nodes: set[int] = set()
        media_accounts: dict[int, set[str]] = {}
        for post in posts:
            for node in index.nodes_of_post(post.id):
                if index.is_text(node):
                    text_nodes.add(node)
                else:
                    media_accounts.setdefault(node, set()).add(post.author.id)
        shared = sorted(index.node_key[n][2:] for n, holders in media_accounts.items()
                        if len(holders) >= settings.min_accounts)
        first_posted = [post.created_at for post in {post.author.id: post for post in reversed(posts)}.values()]
        scored = score_group(
            posts,
            account_signals(posts, settings.new_account_days, settings.low_followers),
            behaviour(posts, repeating),
            messages=messages, distinct_texts=len(text_nodes),
            concentrated=largest_bunch(first_posted, settings.window_hours / 24) / len(accounts),
            shared_media=len(shared), disguised=sum(map(disguised, map(_TEXT, posts))),
        )
        return Cluster(
            key=digest(index.node_key[index.nodes_of_post(posts[0].id)[0]]),
            score=scored.score,
            accounts=accounts,
            posts=[post.id for post in posts],
            reasons=scored.reasons,
            sample_text=next((post.text for post in posts if post.text.strip()), ""),
            first_seen=posts[0].created_at,
            last_seen=posts[-1].created_at,
            distinct_texts=len(text_nodes),
            media=[key for key in shared if len(key) == 64],
            signals={**scored.signals, "messages": float(messages)},
        )

    def _co_posted(self, roots: tuple[int, ...]) -> Cluster | None:
        """The cluster of message groups linked by co-posting, judged as one campaign."""
        return self._cluster([post for root in roots for post in self._groups[root]], messages=len(roots))

    def _candidates(self) -> list[Cluster]:
        """Each set of co-posted groups as one cluster, plus every group of min_accounts on its own."""
        candidates = []
        for roots in map(tuple, self._coposting.merged(kin_links(self._traits))):
            if roots not in self._merged:
                self._merged[roots] = self._co_posted(roots)
            if self._merged[roots] is not None:
                candidates.append(self._merged[roots])
        min_accounts = self.settings.min_accounts
        for root, posts in self._groups.items():
            if root not in self._scored:
                enough = len({post.author.id for post in posts}) >= min_accounts
                self._scored[root] = self._cluster(posts, messages=1) if enough else None
            if self._scored[root] is not None:
                candidates.append(self._scored[root])
        return candidates

    def clusters(self) -> list[Cluster]:
        """Clusters at or above min_score, highest first, each account in at most one.

        Linked message groups judged as one campaign come first: when they reach min_score together,
        the campaign is one card, not one card per message that happened to score a little higher alone.
        A candidate sharing accounts with a better one is re-scored on its remaining accounts; the
        trimmed result is kept while the candidate and what it keeps stay the same, so a poll
        re-scores only what changed.
        """
        self._refresh()
        settings = self.settings
        candidates = sorted((c for c in self._candidates() if c.score >= settings.min_score),
                            key=lambda c: (c.signals["messages"] == 1, -c.score, c.key))
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
        trimmed = self._cluster(kept, messages=int(candidate.signals["messages"]))
        return trimmed if trimmed is not None and trimmed.score >= self.settings.min_score else None


def detect(
    posts: Sequence[Post], settings: DetectionSettings | None = None, prepared: PreparedTexts | None = None
) -> list[Cluster]:
    """Find clusters worth a moderator's look, highest score first.

    Each account stands in at most one cluster: the highest-scoring one it belongs to. `prepared`
    may hold the posts' texts normalised and MinHashed ahead of time (see `detectors.texts`).
    """
    detector = _Detector(settings or DetectionSettings())
    with gc_paused():
        detector.population = len(set(map(_AUTHOR_ID, posts)))
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
        self._authors: Counter[str] = Counter()
        """Posts in the window by account: the accounts active, against which overlaps are judged."""
        self.newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._detector.index.posts)

    def add(self, posts: Iterable[Post]) -> None:
        """Add posts (idempotent by post id) and drop those older than the window."""
        with gc_paused():
            fresh = [post for post in posts if post.id not in self._detector.index.posts]
            authors = self._authors
            authors.update(map(_AUTHOR_ID, fresh))
            self._detector.population = len(authors)
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
            for post_id in expired:
                author = index.posts[post_id].author.id if post_id in index.posts else None
                if author is not None:
                    authors[author] -= 1
                    if not authors[author]:
                        del authors[author]
            self._detector.population = len(authors)
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

    def candidate_authors(self) -> list[Author]:
        """The authors of the groups that could become clusters (min_accounts or more accounts), those of the
        largest groups first, each once: the accounts worth looking up when posts lack their facts."""
        detector = self._detector
        detector._refresh()
        groups = sorted(detector._groups.values(), key=len, reverse=True)
        found: dict[str, Author] = {}
        for posts in groups:
            authors = {post.author.id: post.author for post in sorted(posts, key=_BY_TIME)}
            if len(authors) >= self.settings.min_accounts:
                found.update((key, author) for key, author in authors.items() if key not in found)
        return list(found.values())

    def update_authors(self, authors: Iterable[Author]) -> int:
        """Give the window's posts by these accounts their new author facts; the groups they are in are
        judged again at the next `clusters`. Returns how many posts changed."""
        by_id = {author.id: author for author in authors}
        index = self._detector.index
        changed = [msgspec.structs.replace(post, author=by_id[post.author.id])
                   for post in index.posts.values() if post.author.id in by_id and post.author != by_id[post.author.id]]
        index.replace(changed)
        return len(changed)
