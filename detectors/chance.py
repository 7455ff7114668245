"""How likely chance alone gives an overlap: shared posters of two messages, ties within a set of them."""

from __future__ import annotations

import math

MIN_POPULATION = 1000
"""Chance overlap is judged against at least this many accounts: a quiet window (a small forum, the first
minutes of a run) shows fewer accounts than could have posted, and would make every overlap look like chance."""


def poisson_tail(shared: int, expected: float) -> float:
    """P(X >= shared) for X ~ Poisson(expected): how often chance alone would give this many shared posters."""
    if shared <= expected:
        return 1.0
    term = math.exp(-expected + shared * math.log(expected) - math.lgamma(shared + 1)) if expected > 0 else 0.0
    total, k = term, shared
    while term > total * 1e-12 and k < shared + 1000:
        k += 1
        term *= expected / k
        total += term
    return min(1.0, total)
