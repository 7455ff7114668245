"""Whether two normalised texts are near-copies: rapidfuzz similarity, stricter for short texts.

`fuzz.ratio` keeps word order, so it does not mistake two posts on the same topic for copies;
for long texts `token_sort_ratio` also accepts copies with reordered sentences. Short texts
need a near-exact match, or generic phrases chain unrelated clusters together.
"""

from __future__ import annotations

from rapidfuzz import fuzz

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


def near_copies(a: str, b: str) -> bool:
    """True when `b` reads as an edited copy of `a`."""
    shorter = min(len(a), len(b))
    need = required_ratio(shorter)
    if fuzz.ratio(a, b, score_cutoff=need):
        return True
    return shorter >= LONG_CHARS and bool(fuzz.token_sort_ratio(a, b, score_cutoff=need))
