"""Disguised text: tricks that change how a post's text is stored but not how it reads.

Look-alike letters from another script inside a Latin word, invisible characters between letters,
"mathematical" or full-width letters in a Latin text, letters spaced out one by one: people
writing their own posts rarely do any of these; copies made to slip past exact matching do.
`normalize` folds them away so copies still match; this module notices that they were there.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

from detectors.confusables import CONFUSABLES

_INVISIBLE_BETWEEN_LETTERS = re.compile(r"(?<=\w)[\u200b\u200c\u200d\u2060\ufeff\u00ad]+(?=\w)")
_MATH_LETTERS = re.compile(r"[\U0001D400-\U0001D7FF]")
_FULLWIDTH_LETTERS = re.compile(r"[\uff21-\uff3a\uff41-\uff5a]")
_EAST_ASIAN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_SPACED_LETTERS = re.compile(r"(?:^|\s)(?:[A-Za-z]\s){3,}[A-Za-z](?=\s|$|[^\w\s])")
_WORD = re.compile(r"\w+")

DISGUISE_SHARE = (0.1, 0.5)
"""Below the first share of disguised posts a group may just hold a few stylised writers; from the second, the
disguise is how its copies were made."""
DISGUISE_SCALE = 3.0
"""Disguise evidence grows with the disguised posts: 1 - exp(-(n - 1) / this)."""


def _mixed_script_word(text: str) -> bool:
    """A word holding both ASCII letters and look-alikes of them from another script ('vote' with a Cyrillic o).

    Latin letters with marks or of other alphabets (the Turkish dotless i, the Danish ae) are the writer's own
    language, not a disguise; nor are numerals and symbols that resemble letters ('AppleⅡ' with a Roman
    numeral two, as Japanese text often writes it): a disguise swaps letters for letters.
    """
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        has_ascii = any("a" <= ch.lower() <= "z" for ch in word)
        if has_ascii and any(not ch.isascii() and ord(ch) in CONFUSABLES and unicodedata.category(ch).startswith("L")
                             and not unicodedata.name(ch, "LATIN").startswith(("LATIN", "FULLWIDTH")) for ch in word):
            return True
    return False


@lru_cache(maxsize=65536)
def disguised(text: str) -> bool:
    """Whether a post's text carries a disguise (see the module docstring); a campaign's copies are checked once."""
    if _SPACED_LETTERS.search(text):
        return True
    if text.isascii():
        return False
    return bool(
        _INVISIBLE_BETWEEN_LETTERS.search(text)
        or _MATH_LETTERS.search(text)
        or (_FULLWIDTH_LETTERS.search(text) and not _EAST_ASIAN.search(text))
        or _mixed_script_word(text)
    )


def disguise_evidence(disguised_posts: int, posts: int) -> float:
    """0-1: how strongly a group's disguised posts say its copies were made to evade matching."""
    if not posts:
        return 0.0
    share = min(1.0, max(0.0, (disguised_posts / posts - DISGUISE_SHARE[0]) / (DISGUISE_SHARE[1] - DISGUISE_SHARE[0])))
    return (1 - math.exp(-max(0, disguised_posts - 1) / DISGUISE_SCALE)) * share
