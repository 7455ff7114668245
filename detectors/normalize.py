"""Text folding so edited and disguised copies of a message compare equal or nearly so.

Handles Unicode compatibility forms and stylised letters (NFKC), look-alike letters from other
scripts (confusables), invisible characters, spaced-out letters, links, mentions, trailing
hashtags, "RT"/"Agree!" style prefixes, punctuation and emoji. Most posts are ASCII, so that
path avoids per-character regular expressions: it is the hot loop of a million-post scan.
"""

from __future__ import annotations

import re
import unicodedata

from detectors.confusables import CONFUSABLES

_URL = re.compile(r"https?://\S+|www\.\S+")
_PREFIX = re.compile(r"^\W*(?:rt\W+|via\W+)?(?:@\w+\W*)*(?:[^\W\d_]+\s*){1,2}[!:]+(?=\s)")

_VOWEL_SIGNS = (range(0x0900, 0x0E00), range(0x0E00, 0x1000), range(0x1000, 0x10A0), range(0x1780, 0x1800))
"""Indic scripts, Thai, Lao, Tibetan, Myanmar, Khmer: their vowel and tone signs are marks but part of the word
("สวัสดีครับ" without them reads "สวสดครบ", and different words fold alike), so folding keeps them."""


def _class_of(codes: list[int]) -> str:
    """A regular expression character class body for `codes` (ascending), as ranges."""
    spans: list[list[int]] = []
    for code in codes:
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return "".join(re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
                   for low, high in spans)


_MARKS = _class_of([code for block in _VOWEL_SIGNS for code in block if unicodedata.category(chr(code))[0] == "M"])
"""The vowel and tone signs folding keeps: part of a word to `_words`, though the regular expression word class
leaves them out (Hindi's vowel signs split every word they were in). A class of all marks cost 70 % more there."""
_NON_WORD = re.compile(rf"[^\w#@{_MARKS}]+|_+")
VOWEL_SIGN = re.compile(f"[{_MARKS}]")
"""One of the vowel and tone signs folding keeps: for counting the letters of a folded word (`nodes.has_content`)."""
_MENTION = re.compile(r" @[^ ]*")
_TAG = re.compile(r"(?<![\w#@])[@#]\w+")
"""A mention or hashtag as written, with the underscores that splitting into words would cut it at."""
_ASCII_WORDS = bytes(c if chr(c).isalnum() or chr(c) in "#@" else 32 for c in range(128)) + b" " * 128
_FOLD: dict[int, str | None] = {
    **CONFUSABLES,
    **{code: None for code in range(0x80, 0x20000) if unicodedata.category(chr(code)) in {"Cf", "Mn", "Me"}
       and not any(code in block for block in _VOWEL_SIGNS)},
}
"""Look-alikes to ASCII; invisible formatting (zero-width) and stray combining marks deleted (accents stacked on
Latin letters to disguise a text), except the vowel signs of `_VOWEL_SIGNS`."""
_FOLDED = frozenset(map(chr, _FOLD))
"""The characters `_FOLD` changes: `str.translate` with a dict costs ~0.3 µs a character, a set test ~0.05."""

MIN_PREFIX_REST = 5
"""A leading "Agree!" is dropped only when at least this many words follow it (as `_words` splits them: an
emoticon or a run of "!!!" is no word, else one copy adding them lost its first words and no longer matched)."""

MIN_SPACED_RUN = 3
"""This many single letters in a row ('v o t e') are read as one spaced-out word."""
_SPACED_RUN = re.compile(r" \S" * MIN_SPACED_RUN + " ")
_PREFIX_END = re.compile(r"[!:]\s")
"""What every prefix ends with: a plain scan for it spares most texts `_PREFIX`'s backtracking (~15 µs)."""

MAX_PREFIX_CHARS = 80
"""A prefix's '!' or ':' comes this early or not at all ('rt @a @b:' fits, a whole sentence does not)."""


def fold_chars(text: str) -> str:
    """NFKC, map look-alikes to ASCII, drop invisible and combining characters, case fold.

    The map runs again after case folding, which can itself produce look-alikes (a Greek capital
    with iota subscript folds to two letters); with both passes the result is stable.
    """
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text)
    if not _FOLDED.isdisjoint(folded):  # most non-ASCII posts (accents, CJK, emoji) hold none of them
        folded = folded.translate(_FOLD)
    folded = folded.casefold()
    return folded if folded.isascii() or _FOLDED.isdisjoint(folded) else folded.translate(_FOLD)


def _joined_spaced(normalized: str) -> str:
    """A single-spaced text with each run of MIN_SPACED_RUN or more one-letter words joined into one word."""
    joined: list[str] = []
    run: list[str] = []
    for word in [*normalized.split(" "), ""]:
        if len(word) == 1:
            run.append(word)
            continue
        joined.extend(["".join(run)] if len(run) >= MIN_SPACED_RUN else run)
        run = []
        if word:
            joined.append(word)
    return " ".join(joined)


def _drop_prefix(folded: str) -> str:
    """Drop a short leading exclamation ('agree!', 'rt @bob:') when enough words follow it."""
    if not _PREFIX_END.search(folded, 0, MAX_PREFIX_CHARS):
        return folded
    prefix = _PREFIX.match(folded, 0, MAX_PREFIX_CHARS)
    if prefix and len(_words(folded[prefix.end():]).split()) >= MIN_PREFIX_REST:
        return folded[prefix.end():]
    return folded


def _words(folded: str) -> str:
    """Runs of letters, digits, '#' and '@', separated by single spaces."""
    if not folded.isascii():
        return " ".join(_NON_WORD.sub(" ", folded).split())
    spaced = folded.encode().translate(_ASCII_WORDS).decode()
    while "  " in spaced:
        spaced = spaced.replace("  ", " ")
    return spaced.strip()


def _without_underscores(tag: re.Match[str]) -> str:
    """A mention or hashtag kept whole through `_words`, which cuts at underscores: '@jane_doe' must go as one
    mention, not leave 'doe' behind (copies mentioning different handles then differed)."""
    return tag[0].replace("_", "")


def _drop_tags_and_mentions(normalized: str) -> str:
    """Drop mentions and trailing hashtags, then the '#' and '@' left at word ends (`normalized` is single-spaced).

    String operations in C rather than a Python step per word: about half of real posts have one.
    """
    kept = _MENTION.sub("", " " + normalized)[1:] if "@" in normalized else normalized
    while kept.rpartition(" ")[2].startswith("#"):
        kept = kept.rpartition(" ")[0]
    return _without_marks(kept) if "#" in kept or "@" in kept else kept  # else no word has anything to strip


def _without_marks(normalized: str) -> str:
    """The words of a single-spaced text without the '#' and '@' at their ends."""
    return " ".join(stripped for word in normalized.split(" ") if (stripped := word.strip("#@")))


def normalize_text(text: str) -> str:
    """The comparable form of a post's text: folded, lower-case words separated by single spaces.

    Copies that differ only by disguise, links, mentions, trailing hashtags, a short prefix,
    punctuation or emoji give the same string; a text of nothing but mentions and tags keeps them as
    its words. Each step runs only when its trigger character is present, so a plain ASCII post
    costs a few C calls.
    """
    folded = fold_chars(text)
    if "http" in folded or "www." in folded:
        folded = _URL.sub(" ", folded)
    if "!" in folded or ":" in folded:
        folded = _drop_prefix(folded)
    if "_" in folded and ("@" in folded or "#" in folded):
        folded = _TAG.sub(_without_underscores, folded)
    normalized = _words(folded)
    if ("@ " in normalized or "# " in normalized) and _SPACED_RUN.search(f" {normalized} "):
        normalized = _joined_spaced(normalized)  # '@ b o b' spaced out is a mention, for the next step to drop
    if "@" in normalized or "#" in normalized:  # a text of nothing but mentions and tags (#FF lists) is those
        normalized = _drop_tags_and_mentions(normalized) or _without_marks(normalized)
    while normalized.startswith(("rt ", "via ")) or normalized in ("rt", "via"):
        normalized = normalized.partition(" ")[2]
    return _joined_spaced(normalized) if _SPACED_RUN.search(f" {normalized} ") else normalized


def squash(normalized: str) -> str:
    """Drop the spaces too, so copies that differ only in spacing share an exact key."""
    return normalized.replace(" ", "")
