"""Creation cohorts: accounts created closer together than the accounts active around them would be by chance.

A creation batch (`accounts.creation_batch`) is judged against the accounts' own age: hours apart,
months ago. Campaigns also run on accounts made over a few weeks or months ("many only began a few
months before"), which no batch shows. Whether that is unusual depends on who else is posting: on a
forum where everyone joined in one wave, a month's span is ordinary; where most accounts are years
old, seven accounts all made in the same six weeks are not. So the tightest span holding most of
a group's accounts is measured by the share of the accounts active in the window created within
it, and tested against chance: how likely is it that that many accounts picked at random from the
active ones fall that close together anywhere (the scan statistic, Naus's approximation)? Accounts
created at the same moment count together, so where a platform gives only the day of creation, a
day on which many joined is as wide as the many who joined on it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

COHORT_SHARE = 0.8
"""The span tested holds this share of the group's accounts (at least MIN_COHORT), so a few strays do not hide it."""
MIN_COHORT = 3
"""Two accounts created close together tell nothing; three can, when the span is a sliver of the active
accounts' creation times (the odds below weigh how many accounts share how small a span)."""
LOG_ODDS = (3.0, 7.0)
"""Evidence from chance odds of 1 in 10^3 (none) to 1 in 10^7 (full). A window judges thousands of groups, so
odds of one in a thousand come up every poll; the span's share (SHARE) must also be small."""
SHARE = (0.25, 0.04)
"""And from a span holding a quarter of the active accounts (none) to a twenty-fifth (full), on a log scale,
the two multiplied: a large organic group is measurably less spread than a population that includes campaigns'
young accounts, but not packed into a sliver of it. Significance alone flagged most large look-alike groups."""


class Population:
    """The creation times (epoch seconds) of the accounts active in a window, sorted, for ranking a group's."""

    __slots__ = ("_created",)

    def __init__(self, created: Iterable[float] | np.ndarray) -> None:
        values = created if isinstance(created, np.ndarray) else np.fromiter(created, dtype=np.float64)
        self._created = np.sort(values.astype(np.float64, copy=False))

    def __len__(self) -> int:
        return len(self._created)

    def share_within(self, first: np.ndarray | float, last: np.ndarray | float) -> np.ndarray:
        """The share of the population created from each `first` through each `last` time, both ends included:
        accounts created at the same moment (a platform that gives only the day) count together, never as none."""
        below = np.searchsorted(self._created, first, side="left")
        through = np.searchsorted(self._created, last, side="right")
        return (through - below) / max(1, len(self._created))


@dataclass(frozen=True, slots=True)
class Cohort:
    """The tightest span holding COHORT_SHARE of a group's accounts' creation times, and how unusual it is."""

    accounts: int
    share: float
    """The share of the active accounts created within that span."""
    created_from: float
    created_until: float
    evidence: float
    """0 (as close as chance would put them) to 1 (far closer than chance: one source)."""


def _log_binomial(n: int, k: int, p: float) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def scan_odds(n: int, k: int, width: float) -> float:
    """-log10 of the chance that k of n uniform points fall within some span of `width` (Naus's approximation).

    P ≈ (k/w - n - 1)·b(k; n, w) + 2·G(k; n, w), with b the binomial probability and G its upper tail;
    it is accurate where it matters, for small probabilities, and capped at 1 elsewhere.
    """
    if width >= 1.0 or k <= 1:
        return 0.0
    width = max(width, 1e-12)
    terms = [_log_binomial(n, i, width) for i in range(k, n + 1)]
    top = max(terms)
    log_tail = top + math.log(sum(math.exp(t - top) for t in terms))
    factor = max(0.0, k / width - n - 1)
    log_p = math.log(factor * math.exp(terms[0] - log_tail) + 2.0) + log_tail
    return max(0.0, -log_p / math.log(10))


def cohort(created: Sequence[float], population: Population) -> Cohort | None:
    """How unusually close together the accounts were created, against the active accounts (None if too few)."""
    if len(created) < MIN_COHORT or len(population) < 2 * len(created):
        return None
    order = sorted(created)
    times = np.asarray(order, dtype=np.float64)
    width = max(MIN_COHORT, math.ceil(COHORT_SHARE * len(order))) - 1
    spans = population.share_within(times[:len(times) - width], times[width:])
    start = int(np.argmin(spans))
    share = max(float(spans[start]), 1.0 / len(population))
    density = min(1.0, max(0.0, math.log(SHARE[0] / share) / math.log(SHARE[0] / SHARE[1])))
    evidence = 0.0
    if density > 0:  # the odds cost a sum over the group's size; most organic groups span too much to need them
        odds = scan_odds(len(order), width + 1, share)
        evidence = density * min(1.0, max(0.0, (odds - LOG_ODDS[0]) / (LOG_ODDS[1] - LOG_ODDS[0])))
    return Cohort(width + 1, share, order[start], order[start + width], evidence)
