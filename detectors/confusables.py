"""A fold of look-alike characters onto the ASCII letters and digits they imitate.

Built from Unicode's confusables.txt as shipped (and kept current) by `confusable-homoglyphs`,
plus the Latin small capitals, which Unicode lists as letters rather than confusables.
"""

from __future__ import annotations

import json
import unicodedata
from importlib import resources


def _target(char: str, candidates: list[str]) -> str:
    """Pick the ASCII look-alike a reader would see; prefer the letter the character is named after."""
    name_letter = unicodedata.name(char, "").rsplit(" ", 1)[-1].lower()
    singles = [c.lower() for c in candidates if len(c) == 1]
    if name_letter in singles:
        return name_letter
    return (singles or [candidates[0].lower()])[0]


def _build() -> dict[int, str]:
    table: dict[int, str] = {}
    raw = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    for char, entries in raw.items():
        if len(char) != 1 or char.isascii():
            continue
        candidates = [e["c"] for e in entries if e["c"].isascii() and e["c"].isalnum()]
        if candidates:
            table[ord(char)] = _target(char, candidates)
    for code in range(0x1D00, 0x1D2C):
        name = unicodedata.name(chr(code), "")
        if "SMALL CAPITAL " in name and len(name.rsplit(" ", 1)[-1]) == 1:
            table.setdefault(code, name.rsplit(" ", 1)[-1].lower())
    return table


CONFUSABLES: dict[int, str] = _build()
"""`str.translate` table: code point of a look-alike -> the lower-case ASCII it imitates."""
