"""Pools: message groups tied together as a set by accounts that each posted two of them.

A campaign that hands each account one or two messages of a large pool leaves any two of its
messages with one poster in common or none, which co-posting's test of pairs (`coposting.linked`)
cannot tell from chance. Taken together, though, the pool's messages are tied by dozens of such
accounts where chance would put a fraction of one. The ties are accounts that posted exactly two
of the window's message groups (a prolific poster in many says nothing about any two). The sets
tested are the units (co-posting's and kinship's sets, and lone groups) still tied to one another
by at least MIN_TIES accounts each once the looser ones are peeled away. Chance is the larger of
two counts: the ties the units' tie ends would make among themselves if each fell anywhere among
the window's, and the posters their sizes would share among the accounts active (two big groups
share posters by chance). Organic sharing ties hundreds of messages into one core with about as
many ties as chance gives it, which at that size are long odds too, so a set needs both odds and
an excess over chance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np

from detectors.bridges import linked_sets
from detectors.chance import MIN_POPULATION, poisson_tail

MIN_TIES = 2
"""A unit stays in a set while at least this many accounts tie it to the rest: one is coincidence."""
MAX_CHANCE = 1e-9
"""A set's ties must be at most this likely under chance: a window holds thousands of units, and sets of them."""
MIN_EXCESS = 10.0
"""...and at least this many times what chance expects. On generated data campaigns' sets hold 80-400 times
their expected ties; organic cores of 65-210 units 0.8-1.0 times (1.2-1.4 were accounts in three groups ties too:
long odds at their size)."""
Group = TypeVar("Group", int, str)
"""Group names: the window's numbers, Spark's strings."""
Span = tuple[float, float]


def pooled_sets(sets: Sequence[Sequence[Group]], ties: Mapping[tuple[Group, Group], int],
                size_of: Callable[[Group], int], spans: Mapping[Group, Span], population: int,
                window_seconds: float) -> list[list[Group]]:
    """`sets` (linked groups, each group in one at most) with the units that pool ties join merged.

    `ties` counts, for pairs of groups, the accounts that posted in exactly those two; `size_of` gives
    each group's accounts, `spans` its first and last post time (epoch seconds); `population` the
    accounts active. Units posted further apart than `window_seconds` are not tied. Sorted like
    `bridges.linked_sets`.
    """
    unit_of: dict[Group, Group] = {}
    groups_of: dict[Group, Sequence[Group]] = {}
    for members in sets:
        groups_of[members[0]] = members
        for group in members:
            unit_of[group] = members[0]
    if not ties:
        return [list(members) for members in sets]
    # the window's every tie, each poll: the loose ones are peeled off in bulk before any is looked at alone
    ends_a = [unit_of.get(a, a) for a, _ in ties]
    ends_b = [unit_of.get(b, b) for _, b in ties]
    units, at = np.unique(np.array(ends_a + ends_b), return_inverse=True)
    first, second = at[:len(ends_a)], at[len(ends_a):]
    counts = np.fromiter(ties.values(), dtype=np.int64, count=len(ties))
    between = first != second  # ties inside one unit are no evidence of anything beyond it
    first, second, counts = first[between], second[between], counts[between]
    ends = np.bincount(first, counts, len(units)) + np.bincount(second, counts, len(units))
    core = np.flatnonzero(_peeled(first, second, counts, np.ones(len(first), dtype=bool), len(units)))
    spans_of = {unit: _span([spans[group] for group in groups_of.get(unit, (unit,)) if group in spans])
                for unit in units[np.union1d(first[core], second[core])].tolist()}
    together = np.zeros(len(first), dtype=bool)
    together[core] = [max(spans_of[u][0], spans_of[v][0]) - min(spans_of[u][1], spans_of[v][1]) <= window_seconds
                      for u, v in zip(units[first[core]].tolist(), units[second[core]].tolist(), strict=True)]
    core = np.flatnonzero(_peeled(first, second, counts, together, len(units)))
    neighbours: dict[Group, dict[Group, int]] = defaultdict(dict)
    for u, v, count in zip(units[first[core]].tolist(), units[second[core]].tolist(), counts[core].tolist(),
                           strict=True):
        neighbours[u][v] = neighbours[v][u] = count
    tied = np.union1d(first[core], second[core])
    tie_ends = dict(zip(units[tied].tolist(), ends[tied].tolist(), strict=True))  # only the sets' units need theirs
    pooled = _pools(neighbours, tie_ends, max(MIN_POPULATION, int(ends.sum())),
                    lambda unit: sum(map(size_of, groups_of.get(unit, (unit,)))),
                    max(MIN_POPULATION, population))
    if not pooled:
        return [list(members) for members in sets]
    joined = {unit for pool in pooled for unit in pool}
    found = [list(members) for members in sets if members[0] not in joined]
    found += [sorted(group for unit in pool for group in groups_of.get(unit, (unit,))) for pool in pooled]
    return sorted(found)


def _span(spans: list[Span]) -> Span:
    """The span covering all of `spans`."""
    return min(first for first, _ in spans), max(last for _, last in spans)


def _peeled(first: np.ndarray, second: np.ndarray, counts: np.ndarray, kept: np.ndarray, units: int) -> np.ndarray:
    """Which of the `kept` ties (unit index pairs with their counts) join units that each keep MIN_TIES or more once
    every unit with fewer is peeled away, and the ties it had with it, again and again."""
    while True:
        degree = np.bincount(first[kept], counts[kept], units) + np.bincount(second[kept], counts[kept], units)
        holding = degree >= MIN_TIES
        still = kept & holding[first] & holding[second]
        if still.sum() == kept.sum():
            return kept
        kept = still


def _pools(neighbours: Mapping[Group, Mapping[Group, int]], ends: Mapping[Group, int], all_ends: int,
           size_of: Callable[[Group], int], population: int) -> list[list[Group]]:
    """The sets of tied units (`neighbours`, each tied to the rest by MIN_TIES or more), cut at lone bridges as
    co-posting's are (a campaign one account ties to an organic core is apart from it), whose ties beat chance: by
    where their tie `ends` would fall among `all_ends`, and by their accounts (`size_of`)."""
    pools = []
    for pool in linked_sets((unit, other) for unit, others in neighbours.items() for other in others):
        inside = set(pool)
        internal = sum(count for unit in pool for other, count in neighbours[unit].items() if other in inside) // 2
        expected = max(_pairs_total([ends[unit] for unit in pool]) / all_ends,
                       _pairs_total([size_of(unit) for unit in pool]) / population)
        if internal >= MIN_EXCESS * expected and poisson_tail(internal, expected) <= MAX_CHANCE:
            pools.append(pool)
    return pools


def _pairs_total(values: Sequence[int]) -> float:
    """The sum of a·b over all pairs of `values`: the expected ties of a set once divided by what they fall among."""
    return (sum(values) ** 2 - sum(value * value for value in values)) / 2
