"""Co-posting: the same accounts sharing several distinct messages, the trace of old accounts acting together.

One shared message proves little (people share headlines); the same set of accounts turning up
together behind message after message does. Groups whose account sets overlap strongly are linked,
and linked groups merge. The links are kept up to date group by group, so a poll re-counts the
overlaps of the groups it changed, not of every group in the window.
"""

from __future__ import annotations

from collections import Counter, defaultdict

MIN_JACCARD = 0.5
"""Two messages' account sets must overlap at least this much (shared / either) to merge."""
MAX_GROUP_ACCOUNTS = 500
"""Bigger groups are broad public sharing; overlap between them is chance, not coordination."""
MAX_GROUPS_PER_ACCOUNT = 50
"""An account in more groups than this is a prolific poster and says nothing about pairing."""


class CoPosting:
    """Account sets of the current message groups and the strong-overlap links between them."""

    def __init__(self, min_shared: int) -> None:
        self.min_shared = min_shared
        self._accounts: dict[int, frozenset[str]] = {}
        self._by_account: dict[str, set[int]] = defaultdict(set)
        self._links: dict[int, set[int]] = defaultdict(set)

    def update(self, group: int, accounts: frozenset[str] | None) -> None:
        """Set (or, with None, drop) one group's accounts and re-link it to the others."""
        old = self._accounts.pop(group, None)
        if old is not None:
            for account in old:
                holders = self._by_account[account]
                holders.discard(group)
                if not holders:
                    del self._by_account[account]
            for other in self._links.pop(group, ()):
                self._links[other].discard(group)
                if not self._links[other]:
                    del self._links[other]
        if accounts is None or not self.min_shared <= len(accounts) <= MAX_GROUP_ACCOUNTS:
            return
        shared: Counter[int] = Counter()
        for account in accounts:
            holders = self._by_account.get(account, ())
            if len(holders) < MAX_GROUPS_PER_ACCOUNT:
                shared.update(holders)
        for other, count in shared.items():
            union = len(accounts) + len(self._accounts[other]) - count
            if count >= self.min_shared and count / union >= MIN_JACCARD:
                self._links[group].add(other)
                self._links[other].add(group)
        self._accounts[group] = accounts
        for account in accounts:
            self._by_account[account].add(group)

    def merged(self) -> list[list[int]]:
        """Groups to merge: each list is one connected set of linked groups (two or more)."""
        seen: set[int] = set()
        found = []
        for start in self._links:
            if start in seen:
                continue
            seen.add(start)
            component, frontier = [start], [start]
            while frontier:
                for other in self._links[frontier.pop()]:
                    if other not in seen:
                        seen.add(other)
                        component.append(other)
                        frontier.append(other)
            found.append(sorted(component))
        return found
