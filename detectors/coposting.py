"""Co-posting: the same accounts sharing several distinct messages, the trace of old accounts acting together.

One shared message proves little (people share headlines); the same set of accounts turning up
together behind message after message does. Groups whose account sets overlap strongly merge.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

MIN_JACCARD = 0.5
"""Two messages' account sets must overlap at least this much (shared / either) to merge."""
MAX_GROUP_ACCOUNTS = 500
"""Bigger groups are broad public sharing; overlap between them is chance, not coordination."""
MAX_GROUPS_PER_ACCOUNT = 50
"""An account in more groups than this is a prolific poster and says nothing about pairing."""


def copost_sets(account_sets: Sequence[frozenset[str]], min_shared: int) -> list[list[int]]:
    """Indices of groups to merge: connected by >= `min_shared` shared accounts at MIN_JACCARD."""
    by_account: dict[str, list[int]] = defaultdict(list)
    for index, accounts in enumerate(account_sets):
        if min_shared <= len(accounts) <= MAX_GROUP_ACCOUNTS:
            for account in accounts:
                by_account[account].append(index)
    shared: Counter[tuple[int, int]] = Counter()
    for groups in by_account.values():
        if 1 < len(groups) <= MAX_GROUPS_PER_ACCOUNT:
            shared.update((a, b) for i, a in enumerate(groups) for b in groups[i + 1:])
    parent = list(range(len(account_sets)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for (a, b), count in shared.items():
        union_size = len(account_sets[a]) + len(account_sets[b]) - count
        if count >= min_shared and count / union_size >= MIN_JACCARD:
            parent[find(a)] = find(b)
    merged: dict[int, list[int]] = defaultdict(list)
    for index in range(len(account_sets)):
        merged[find(index)].append(index)
    return [sorted(indices) for indices in merged.values() if len(indices) > 1]
