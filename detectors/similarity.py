"""Whether two normalised texts are near-copies: rapidfuzz similarity, stricter for short texts.

`fuzz.ratio` keeps word order, so it does not mistake two posts on the same topic for copies;
for long texts `token_sort_ratio` also accepts copies with reordered sentences. Short texts
need a near-exact match, or generic phrases chain unrelated clusters together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

LONG_CHARS = 60
"""From this length edits are small relative to the text and reordering is safe to accept."""
SHORT_CHARS = 30
MIN_RATIO_LONG = 80.0
MIN_RATIO_MEDIUM = 88.0
MIN_RATIO_SHORT = 94.0


def required_ratio(length: int) -> float:
    """The similarity (0-100) that a pair whose shorter text has `length` chars must reach."""
    if length >= LONG_CHARS:
        return MIN_RATIO_LONG
    return MIN_RATIO_MEDIUM if length >= SHORT_CHARS else MIN_RATIO_SHORT


def near_copies(left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """For each pair, whether `right[i]` reads as an edited copy of `left[i]` (rapidfuzz, both cores)."""
    if not left:
        return np.zeros(0, dtype=bool)
    shorter = np.minimum([len(text) for text in left], [len(text) for text in right])
    need = np.array([required_ratio(length) for length in np.minimum(shorter, LONG_CHARS).tolist()])
    ok = cpdist(left, right, scorer=fuzz.ratio, workers=-1) >= need
    retry = np.flatnonzero(~ok & (shorter >= LONG_CHARS))
    if len(retry):
        resorted = cpdist([left[i] for i in retry], [right[i] for i in retry], scorer=fuzz.token_sort_ratio, workers=-1)
        ok[retry] = resorted >= need[retry]
    return ok
