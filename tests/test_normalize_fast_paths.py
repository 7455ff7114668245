"""The fast paths of text folding give exactly what the plain definitions give, on real and hostile text.

Each oracle below is the straightforward form of a step (translate every character, run the prefix
regex on every text, filter words one by one); the module's versions skip work a text cannot need.
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import normalize
from detectors.normalize import _FOLD, _PREFIX, MAX_PREFIX_CHARS, MIN_PREFIX_REST

REAL = Path(__file__).resolve().parent.parent / "data" / "honeypot" / "legitimate.jsonl.gz"


def fold_oracle(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD).casefold()
    return folded.translate(_FOLD)


def prefix_oracle(folded: str) -> str:
    prefix = _PREFIX.match(folded, 0, MAX_PREFIX_CHARS)
    if prefix and len(normalize._words(folded[prefix.end():]).split()) >= MIN_PREFIX_REST:
        return folded[prefix.end():]
    return folded


def tags_oracle(normalized: str) -> str:
    words = [word for word in normalized.split(" ") if not word.startswith("@")]
    while words and words[-1].startswith("#"):
        words.pop()
    return " ".join(stripped for word in words if (stripped := word.strip("#@")))


@cache
def real_texts() -> list[str]:
    """A few thousand real tweets: many scripts, emoji, links, mentions, tags."""
    with gzip.open(REAL, "rb") as stream:
        return [text for line in stream for text in orjson.loads(line)["texts"]][:6000]


_FOLDABLE = sorted(map(chr, _FOLD))
hostile = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(_FOLDABLE), st.sampled_from(" !:@#_rtvia\u200b\u0301é𝐕Ｖ")),
    max_size=120,
)


def _single_spaced(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=400, deadline=None)
@given(hostile)
def test_folding_equals_translating_every_character(text: str) -> None:
    assert normalize.fold_chars(text) == (text.lower() if text.isascii() else fold_oracle(text))


@settings(max_examples=400, deadline=None)
@given(hostile)
def test_prefix_scan_drops_what_the_regex_alone_drops(text: str) -> None:
    assert normalize._drop_prefix(text) == prefix_oracle(text)


@settings(max_examples=400, deadline=None)
@given(hostile.map(_single_spaced))
def test_tags_and_mentions_go_as_word_by_word(text: str) -> None:
    assert normalize._drop_tags_and_mentions(text) == tags_oracle(text)


def test_every_fast_path_equals_its_oracle_on_real_tweets() -> None:
    texts = real_texts()
    assert sum(not text.isascii() for text in texts) > 1000
    for text in texts:
        folded = normalize.fold_chars(text)
        assert folded == (text.lower() if text.isascii() else fold_oracle(text))
        assert normalize._drop_prefix(folded) == prefix_oracle(folded)
        words = normalize._words(folded)
        assert normalize._drop_tags_and_mentions(words) == tags_oracle(words)


@pytest.mark.parametrize("text", ["a #b @c #d", "@a", "#a #b", "x@y #z", "rt @a: b c d e f g", "## @ #"])
def test_edge_cases_of_tags_and_mentions(text: str) -> None:
    assert normalize._drop_tags_and_mentions(text) == tags_oracle(text)
