"""Detection entry points: `detect` over a batch and `WindowIndex` for the rolling poll window.

Both run the same incremental machinery: a content index whose changed components are split into
time chains (groups) and re-judged, co-posting and kinship merges across groups, judging
(`detectors.judge`), and a pass that gives each account one cluster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from operator import add, attrgetter

import msgspec

from detectors.bulk import gc_paused
from detectors.chains import time_chains
from detectors.cohort import Population
from detectors.coposting import MIN_SHARED, CoPosting
from detectors.expiry import ExpiryQueue
from detectors.index import ContentIndex
from detectors.judge import choose, judge, judge_group
from detectors.kinship import Traits, kin_links, traits
from detectors.nodes import NodeRef
from detectors.parallel import split_map
from detectors.settings import DetectionSettings
from detectors.texts import PreparedTexts
from domain.models import Author, Cluster, Post

_AUTHOR_ID = attrgetter("author.id")
_ID = attrgetter("id")
_CREATED = attrgetter("created_at")
_BY_TIME = attrgetter("created_at", "id")

COMPACT_DEAD_SHARE = 0.15
"""The window index is compacted once this share of its content nodes has no live post left: memory against
stalls. A 1M-post window's compaction takes ~20 s, and each dead node holds ~400 bytes until then; in the load
benchmark's steady state (`bench/LOAD.md`) RSS peaked at 1,526-1,533 MB at 0.2 and at 1,511 MB at 0.15."""
RESORT_SHARE = 0.01
"""The window's creation times are sorted again once this share of its accounts came or went (`cohort`)."""
JUDGE_SPLIT_GROUPS = 2000
"""A scan judges its groups on both cores from this many (~0.2 ms each, so the fork pays for itself)."""
CHECK_MIN_EXPIRED = 1000
"""Dead nodes are counted after this many expirations, or a sixteenth of the window if more."""


class _Detector:
    """A content index plus the groups it currently holds, refreshed only where it changed.

    A group is a time chain of a component: the component's root for its first chain, a negative
    number for each later one (only a batch longer than the window has later chains).
    """

    def __init__(self, settings: DetectionSettings, one_batch: bool = False) -> None:
        self.settings = settings
        self.index = ContentIndex(one_batch)
        self.population = 0
        """Accounts active in the window: how likely chance overlap between two groups' posters is."""
        self.creation = Population(())
        """Creation times of the accounts active in the window, against which a group's are judged (`cohort`)."""
        self._groups: dict[int, list[Post]] = {}
        """Posts of each group with two or more accounts (a candidate from min_accounts)."""
        self._chains: dict[int, list[int]] = {}
        """The groups of each component root, its first chain first."""
        self._next_chain = -1
        self._traits: dict[int, Traits] = {}
        """Groups whose accounts were created in one tight batch, for kinship links."""
        self._unjudged: dict[int, None] = {}
        """Groups read since the last judging, in the order they were read."""
        self._passing: dict[int, Cluster] = {}
        """The groups judged on their own that reach min_score, in the order they were read: the only ones
        `choose` can take, so a poll hands it these rather than every group of the window."""
        self._merged: dict[tuple[int, ...], Cluster | None] = {}
        self._coposting = CoPosting(lambda: self.population, settings.window_seconds)
        self._trims: dict[tuple[int, frozenset[str]], tuple[Cluster, Cluster | None]] = {}
        """Trimmed clusters of the last call, by (candidate identity, accounts kept), with the candidate
        itself, which keeps it alive so its identity cannot be reused; see `clusters`."""

    def compact(self) -> None:
        """Compact the index; its components are renumbered, so every group is judged afresh."""
        self.index.compact()
        self._groups, self._chains, self._merged, self._trims, self._traits = {}, {}, {}, {}, {}
        self._unjudged, self._passing = {}, {}
        self._coposting = CoPosting(lambda: self.population, self.settings.window_seconds)

    def _drop(self, group: int) -> None:
        """Forget one group and everything derived from it."""
        self._groups.pop(group, None)
        self._traits.pop(group, None)
        self._unjudged.pop(group, None)
        self._passing.pop(group, None)
        self._coposting.update(group, None)

    def _refresh(self) -> None:
        """Re-read the components that changed into their groups; keep links and caches in step."""
        index = self.index
        members, node_posts = index.members, index.node_posts
        # a lone node with too few posts that was no group before has nothing to re-read
        changed = [root for root in index.dirty
                   if root in members or root in self._chains or len(node_posts[root]) >= MIN_SHARED]
        stale: set[int] = set()
        chains_of = list(map(self._chains_of, changed))
        grouped = [root for root, chains in zip(changed, chains_of, strict=True) if chains]
        specifics = dict(zip(grouped, self._specific(grouped), strict=True))
        for root, chains in zip(changed, chains_of, strict=True):
            for group in self._chains.pop(root, ()):
                self._drop(group)
                stale.add(group)
            specific = specifics.get(root, False)
            groups = []
            for number, chain in enumerate(chains):
                group = root if number == 0 else self._new_chain()
                groups.append(group)
                stale.add(group)
                self._groups[group] = chain
                self._unjudged[group] = None
                accounts = frozenset(post.author.id for post in chain)
                span = (chain[0].created_at.timestamp(), chain[-1].created_at.timestamp())
                self._coposting.update(group, accounts if specific else None, span)
                self._note_traits(group, chain, accounts)
            if groups:
                self._chains[root] = groups
        index.dirty.clear()
        if stale:
            self._merged = {groups: c for groups, c in self._merged.items() if stale.isdisjoint(groups)}

    def _chains_of(self, root: int) -> list[list[Post]]:
        """The time chains of a component's live posts that hold MIN_SHARED accounts (none for a root no more)."""
        index = self.index
        if index.parent[root] != root or index.potential_posts(root) < MIN_SHARED:
            return []
        return [chain for chain in time_chains(index.component_posts(root), self.settings.window_seconds)
                if len({post.author.id for post in chain}) >= MIN_SHARED]

    def _specific(self, roots: Sequence[int]) -> list[bool]:
        """`ContentIndex.specific` of each root, which re-reads texts: a scan's ~70,000 are shared out over both
        cores (`split_map`), a window's are not (what a forked child learns of its texts would be lost to polls)."""
        specific = self.index.specific
        if not self.index.one_batch:
            return list(map(specific, roots))
        return split_map(lambda part: list(map(specific, part)), roots, add)

    def _new_chain(self) -> int:
        self._next_chain -= 1
        return self._next_chain

    def _note_traits(self, group: int, posts: list[Post], accounts: frozenset[str]) -> None:
        """Remember a group's kinship traits when its accounts were created in one batch (see `kinship`)."""
        if len(accounts) < self.settings.min_accounts:
            return
        found = traits(posts)
        if found is not None:
            self._traits[group] = found

    def _nodes_of(self, post: Post) -> list[NodeRef]:
        """The content nodes of an indexed post, as `judge` reads them."""
        index = self.index
        return [NodeRef(index.node_key[node], index.is_text(node)) for node in index.nodes_of_post(post.id)]

    def _judge(self, posts: list[Post], messages: int) -> Cluster | None:
        return judge(posts, self._nodes_of, self.settings, messages, self.creation)

    def _candidates(self) -> tuple[list[tuple[Cluster, list[Cluster]]], list[Cluster]]:
        """For `choose`: each set of linked groups as one cluster, with those of its groups that pass alone; then
        every group of min_accounts on its own that reaches min_score (judged once, when it changed)."""
        linked = list(map(tuple, self._coposting.merged(kin_links(self._traits, self.creation))))
        for groups in linked:
            if groups not in self._merged:
                self._merged[groups] = self._judge([post for g in groups for post in self._groups[g]], len(groups))
        min_accounts = self.settings.min_accounts
        unjudged = [group for group in self._unjudged
                    if len({post.author.id for post in self._groups[group]}) >= min_accounts]
        split = JUDGE_SPLIT_GROUPS if self.index.one_batch else None  # the bot's window never forks (its threads)
        for group, judged in zip(unjudged, split_map(self._passing_alone, unjudged, add, split), strict=True):
            if judged is not None:
                self._passing[group] = judged
        self._unjudged.clear()
        passing = self._passing
        merged = [(cluster, [passing[group] for group in groups if group in passing])
                  for groups in linked if (cluster := self._merged[groups]) is not None]
        return merged, list(passing.values())

    def _passing_alone(self, groups: Sequence[int]) -> list[Cluster | None]:
        """Each group judged on its own (`judge_group`), None where it stays below min_score: pure, so a scan's
        groups are judged on both cores (`split_map`, from JUDGE_SPLIT_GROUPS)."""
        settings = self.settings
        return [judged if (judged := judge_group(self._groups[group], self._nodes_of, settings, self.creation))
                is not None and judged.score >= settings.min_score else None for group in groups]

    def clusters(self) -> list[Cluster]:
        """Clusters at or above min_score, highest first, each account in at most one (see `judge.choose`).

        A trimmed candidate is kept while the candidate and what it keeps stay the same, so a poll
        re-judges only what changed.
        """
        self._refresh()
        trims: dict[tuple[int, frozenset[str]], tuple[Cluster, Cluster | None]] = {}

        def trim(candidate: Cluster, free: frozenset[str]) -> Cluster | None:
            key = (id(candidate), free)
            if key not in trims:
                trims[key] = self._trims.get(key) or (candidate, self._trimmed(candidate, free))
            return trims[key][1]

        chosen = choose(*self._candidates(), trim, self.settings)
        self._trims = trims
        return chosen

    def _trimmed(self, candidate: Cluster, free: frozenset[str]) -> Cluster | None:
        """The candidate re-judged on the posts of its `free` accounts, if it still reaches min_score."""
        posts = self.index.posts
        kept = [posts[pid] for pid in candidate.posts if posts[pid].author.id in free]
        trimmed = self._judge(kept, messages=int(candidate.signals["messages"]))
        return trimmed if trimmed is not None and trimmed.score >= self.settings.min_score else None


def detect(
    posts: Sequence[Post], settings: DetectionSettings | None = None, prepared: PreparedTexts | None = None
) -> list[Cluster]:
    """Find clusters worth a moderator's look, highest score first.

    Each account stands in at most one cluster: the highest-scoring one it belongs to. `prepared`
    may hold the posts' texts normalised and MinHashed ahead of time (see `detectors.texts`).
    """
    detector = _Detector(settings or DetectionSettings(), one_batch=True)
    with gc_paused():
        authors = {post.author.id: post.author for post in posts}
        detector.population = len(authors)
        detector.creation = Population(author.created_at.timestamp() for author in authors.values()
                                       if author.created_at is not None)
        detector.index.add(posts, prepared)
        return detector.clusters()


class WindowIndex:
    """The posts of the rolling detection window; posts are added as polled and expire by age.

    Time is the newest post's time, not the wall clock, so replays and backfills behave alike.
    Adding a batch indexes only the new posts and re-judges only the groups they touch. Once
    COMPACT_DEAD_SHARE of the content nodes have no live post, the index is compacted in place: memory stays
    proportional to the window, and joins made only through expired posts are undone.
    """

    def __init__(self, settings: DetectionSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        self._detector = _Detector(self.settings)
        self._expiry = ExpiryQueue()
        self._expired_since_check = 0
        self._authors: Counter[str] = Counter()
        """Posts in the window by account: the accounts active, against which overlaps are judged."""
        self._created: dict[str, float] = {}
        """Creation time (epoch seconds) of each active account that reports one: the population against which a
        group's creation is judged (`cohort`)."""
        self._created_changes = 0
        """Accounts that came into or left `_created` since the detector's population was last sorted."""
        self.newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._detector.index.posts)

    def add(self, posts: Iterable[Post]) -> None:
        """Add posts (idempotent by post id) and drop those older than the window."""
        with gc_paused():
            fresh = [post for post in posts if post.id not in self._detector.index.posts]
            authors = self._authors
            authors.update(map(_AUTHOR_ID, fresh))
            created = self._created
            before = len(created)
            created.update((post.author.id, post.author.created_at.timestamp()) for post in fresh
                           if post.author.created_at is not None)
            self._created_changes += len(created) - before
            self._detector.population = len(authors)
            self._detector.index.add(fresh)
            self._expiry.add(list(map(_ID, fresh)), list(map(_CREATED, fresh)))
            if fresh:
                newest = max(map(_CREATED, fresh))
                self.newest = newest if self.newest is None else max(self.newest, newest)
            if self.newest is None:
                return
            horizon = self.newest - timedelta(hours=self.settings.window_hours)
            expired = self._expiry.expire(horizon)
            index = self._detector.index
            for post_id in expired:
                author = index.posts[post_id].author.id if post_id in index.posts else None
                if author is not None:
                    authors[author] -= 1
                    if not authors[author]:
                        del authors[author]
                        self._created_changes += self._created.pop(author, None) is not None
            self._detector.population = len(authors)
            self._sort_creation()
            index.remove(expired)
            self._expired_since_check += len(expired)
            if self._expired_since_check >= max(len(self) // 16, CHECK_MIN_EXPIRED):
                self._expired_since_check = 0
                if index.dead_nodes > COMPACT_DEAD_SHARE * len(index.node_key):
                    self._detector.compact()

    def _sort_creation(self) -> None:
        """Sort the active accounts' creation times again once a hundredth of them changed.

        Sorting a million takes ~0.1 s; a cohort's rank among them moves by less than that share meanwhile.
        """
        if self._created_changes > RESORT_SHARE * len(self._created) or not len(self._detector.creation):
            self._detector.creation = Population(self._created.values())
            self._created_changes = 0

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
        facts = {key: author.created_at.timestamp() for key, author in by_id.items()
                 if key in self._authors and author.created_at is not None}
        self._created_changes += sum(self._created.get(key) != moment for key, moment in facts.items())
        self._created.update(facts)
        self._sort_creation()
        return len(changed)
