"""Co-posting: the same accounts turning up behind several distinct messages, the trace of acting together.

One shared message proves little (people share headlines); accounts turning up together behind
message after message do. Campaigns hand each account a random few of a pool of messages, so two
messages of one campaign may share only a few of their posters; what gives them away is that even
a few shared posters are far more than chance would put behind two messages. Two message groups
are linked when the accounts they share are that unlikely under chance (a Poisson tail on the
overlap expected from their sizes and the accounts active in the window) and not a sliver of the
larger group, and linked groups merge. Links are kept up to date group by group, so a poll
re-counts the overlaps of the groups it changed, not of every group in the window.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from detectors.bridges import linked_sets
from detectors.chance import MIN_POPULATION, poisson_tail
from detectors.pools import pooled_sets

MIN_SHARED = 2
"""Two messages must share at least this many posters to be linked: one is always coincidence."""
MAX_CHANCE = 1e-5
"""Two messages are linked when chance would give them their shared posters with at most this probability."""
MIN_OVERLAP = 0.05
"""...and at least this share of the larger group's posters: a handful of a big campaign's accounts behind a
stock text (which other campaigns' accounts also posted) does not link that text to the campaign, so one
popular text cannot chain two campaigns, or a campaign and its organic sources, into one."""
MAX_GROUP_ACCOUNTS = 2000
"""Bigger groups are broad public sharing; they are judged on their own, never linked."""
MAX_GROUPS_PER_ACCOUNT = 50
"""An account in more groups than this is a prolific poster and says nothing about pairing."""


def linked(shared: int, sizes: tuple[int, int], spans: tuple[tuple[float, float], tuple[float, float]],
           population: int, window_seconds: float) -> bool:
    """Whether two message groups with `shared` posters in common are linked by co-posting.

    They must have posted within a window of each other, share at least MIN_SHARED posters and
    MIN_OVERLAP of the larger group's, and chance must give that overlap at most MAX_CHANCE among
    `population` accounts (at least MIN_POPULATION).
    """
    (first_a, last_a), (first_b, last_b) = spans
    if max(first_a, first_b) - min(last_a, last_b) > window_seconds:
        return False  # posted further apart than the window: never seen together
    expected = sizes[0] * sizes[1] / max(MIN_POPULATION, population)
    return shared >= max(MIN_SHARED, MIN_OVERLAP * max(sizes)) and poisson_tail(shared, expected) <= MAX_CHANCE


class CoPosting:
    """Account sets of the current message groups and the unlikely-overlap links between them."""

    def __init__(self, population: Callable[[], int], window_seconds: float) -> None:
        self.population = population
        """Accounts active in the window: the denominator of chance overlap."""
        self.window_seconds = window_seconds
        """Groups posted further apart than this are never linked (the rolling window never holds both)."""
        self._accounts: dict[int, frozenset[str]] = {}
        self._spans: dict[int, tuple[float, float]] = {}
        self._by_account: dict[str, set[int]] = defaultdict(set)
        self._links: dict[int, set[int]] = defaultdict(set)
        self._ties: Counter[tuple[int, int]] = Counter()
        """Accounts in exactly two groups, by those two (`pools`)."""

    def update(self, group: int, accounts: frozenset[str] | None, span: tuple[float, float] = (0.0, 0.0)) -> None:
        """Set (or, with None, drop) one group's accounts and posting span (epoch seconds); re-link it."""
        old = self._accounts.pop(group, None)
        self._spans.pop(group, None)
        if old is not None:
            for account in old:
                holders = self._by_account[account]
                self._tie(holders, -1)
                holders.discard(group)
                self._tie(holders, 1)
                if not holders:
                    del self._by_account[account]
            for other in self._links.pop(group, ()):
                self._links[other].discard(group)
                if not self._links[other]:
                    del self._links[other]
        if accounts is None or not MIN_SHARED <= len(accounts) <= MAX_GROUP_ACCOUNTS:
            return
        shared: Counter[int] = Counter()
        for account in accounts:
            holders = self._by_account.get(account, ())
            if len(holders) < MAX_GROUPS_PER_ACCOUNT:
                shared.update(holders)
        population = self.population()
        for other, count in shared.items():
            sizes = len(accounts), len(self._accounts[other])
            if linked(count, sizes, (span, self._spans[other]), population, self.window_seconds):
                self._links[group].add(other)
                self._links[other].add(group)
        self._accounts[group] = accounts
        self._spans[group] = span
        for account in accounts:
            holders = self._by_account[account]
            self._tie(holders, -1)
            holders.add(group)
            self._tie(holders, 1)

    def _tie(self, holders: set[int], change: int) -> None:
        """Count (or uncount) an account holding `holders` as a tie of its two groups, if it holds exactly two."""
        if len(holders) == 2:
            pair = tuple(sorted(holders))
            self._ties[pair] += change
            if not self._ties[pair]:
                del self._ties[pair]

    def merged(self, extra: Iterable[tuple[int, int]] = ()) -> list[list[int]]:
        """Groups to merge: each list is one set of linked groups (two or more), see `linked_sets`, with the sets
        that pool ties join (`pools.pooled_sets`).

        `extra` links more pairs of current groups (co-creation); they join sets like co-posting links.
        """
        sets = linked_sets([(a, b) for a, others in self._links.items() for b in others if a < b] + list(extra))
        return pooled_sets(sets, self._ties, self._size_of, self._spans, self.population(), self.window_seconds)

    def _size_of(self, group: int) -> int:
        """The accounts of a group co-posting judges; none for one it does not (too big, or not specific)."""
        return len(self._accounts.get(group, ()))
