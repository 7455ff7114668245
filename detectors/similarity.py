"""Whether two normalised texts are near-copies: rapidfuzz similarity, stricter for short texts.

`fuzz.ratio` keeps word order, so it does not mistake two posts on the same topic for copies;
for long texts `token_sort_ratio` also accepts copies with reordered sentences (tried only on the
pairs `ratio` refused). Short texts need a near-exact match, or generic phrases chain unrelated
clusters together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

LONG_CHARS = 60
"""From this length edits are small relative to the text and reordering is safe to accept."""
SHORT_CHARS = 30
MIN_RATIO_LONG = 80.0
MIN_RATIO_MEDIUM = 88.0
MIN_RATIO_SHORT = 94.0


CHUNK_PAIRS = 1 << 17
"""Pairs verified per step."""
RATIO_SLACK = 1e-6
"""Rounding room when a pair is ruled out by its lengths alone (never rules out one that would pass)."""


def required_ratio(shorter: np.ndarray) -> np.ndarray:
    """The similarity (0-100) each pair must reach, by the length of its shorter text."""
    return np.where(shorter >= LONG_CHARS, MIN_RATIO_LONG,
                    np.where(shorter >= SHORT_CHARS, MIN_RATIO_MEDIUM, MIN_RATIO_SHORT))


def could_be_copies(shortest_a: np.ndarray, longest_a: np.ndarray, shortest_b: np.ndarray, longest_b: np.ndarray
                    ) -> np.ndarray:
    """For pairs whose two texts' lengths are known only within ranges, whether they could verify as copies.

    Both scores are at most 200 * shorter / (sum of lengths) (an insertion or deletion per character
    of difference): at best the lengths are as close as the ranges allow, and the bar is the lowest
    the shorter text could make it. A pair ruled out here fails `near_copies` whatever its texts.
    """
    apart_a = longest_a < shortest_b  # every length of a is below every length of b
    apart_b = longest_b < shortest_a
    low = np.where(apart_a, longest_a, np.where(apart_b, longest_b, 1))
    high = np.where(apart_a, shortest_b, np.where(apart_b, shortest_a, 1))  # overlapping ranges: equal lengths
    need = required_ratio(np.minimum(longest_a, longest_b))
    return 200.0 * low >= (need - RATIO_SLACK) * (low + high)


def near_copies(left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """For each pair of normalised (single-spaced) texts, whether `right[i]` reads as an edited copy of `left[i]`.

    Pairs whose lengths alone rule them out (`could_be_copies`) are not compared; the rest go to
    rapidfuzz on both cores, CHUNK_PAIRS at a time (rapidfuzz copies the texts it is given into
    buffers of its own, and a scan's million pairs would hold a few hundred MB of them at once).
    """
    ok = np.zeros(len(left), dtype=bool)
    for begin in range(0, len(left), CHUNK_PAIRS):
        ok[begin:begin + CHUNK_PAIRS] = _verified(np.asarray(left[begin:begin + CHUNK_PAIRS], dtype=object),
                                                  np.asarray(right[begin:begin + CHUNK_PAIRS], dtype=object))
    return ok


def _verified(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """`near_copies` of one chunk of pairs."""
    left_chars = np.fromiter(map(len, left), dtype=np.int64, count=len(left))
    right_chars = np.fromiter(map(len, right), dtype=np.int64, count=len(right))
    shorter = np.minimum(left_chars, right_chars)
    need = required_ratio(shorter)
    reachable = could_be_copies(left_chars, left_chars, right_chars, right_chars)
    ok = np.zeros(len(left), dtype=bool)
    _score(ok, np.flatnonzero(reachable), left, right, need, fuzz.ratio)
    _score(ok, np.flatnonzero(reachable & ~ok & (shorter >= LONG_CHARS)), left, right, need, fuzz.token_sort_ratio)
    return ok


def _score(ok: np.ndarray, at: np.ndarray, left: np.ndarray, right: np.ndarray, need: np.ndarray,
           scorer: Callable[..., float]) -> None:
    """Set `ok` at the pairs `at` whose `scorer` similarity reaches `need`."""
    if len(at):
        ok[at] = cpdist(left[at].tolist(), right[at].tolist(), scorer=scorer, workers=-1) >= need[at]
