"""Near-copy verification and MinHash blocking."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from detectors import bands, parallel
from detectors.bands import BandTable, batch_pairs
from detectors.minhash import WordHashes, band_keys, signatures, text_band_keys
from detectors.similarity import LONG_CHARS, could_be_copies, near_copies, required_ratio

LONG = "the new bridge project will cost the city twelve million and nobody asked the residents"


def test_a_swapped_word_is_still_a_copy() -> None:
    assert near_copies([LONG], [LONG.replace("twelve", "ten")])[0]


def test_reordered_sentences_are_a_copy_when_long() -> None:
    a = "the new bridge project will cost twelve million dollars in total"
    b = "nobody asked the residents about any of it"
    assert near_copies([f"{a} {b}"], [f"{b} {a}"])[0]


def test_short_texts_need_a_near_exact_match() -> None:
    assert near_copies(["i love my cat so much"] * 2, ["i love my dog so much", "i love my cat so much"]).tolist() \
        == [False, True]


def test_same_topic_is_not_a_copy() -> None:
    assert not near_copies([LONG], ["residents say the bridge project is a waste of twelve million dollars"])[0]


def test_lsh_pairs_near_copies_and_not_strangers() -> None:
    stranger = "completely unrelated words about gardening tomatoes in spring"
    texts = [LONG, LONG.replace("twelve", "ten"), stranger]
    keys = band_keys(signatures(texts, WordHashes()))
    table = BandTable()
    pairs = table.add(list(keys.T), np.arange(3), lambda nodes: np.ones(len(nodes), dtype=bool))
    assert {tuple(p) for p in pairs.tolist()} == {(1, 0)}


@pytest.mark.parametrize("dead", [0, 1, 3, 7, 10])
def test_a_new_text_is_paired_with_the_first_live_holder_of_a_key_behind_dead_ones(dead: int) -> None:
    keys = np.full((11, 16), 7 << 40, dtype=np.uint64)  # eleven texts with the same key in every band
    table, living = BandTable(), np.ones(11, dtype=bool)
    table.add(list(keys[:10].T), np.arange(10), lambda nodes: living[nodes])
    living[:dead] = False  # the oldest holders' posts left; a one-text segment is not merged into ten
    pairs = table.add(list(keys[10:].T), np.array([10]), lambda nodes: living[nodes])
    assert pairs.tolist() == ([[10, dead]] if dead < 10 else [])


def test_a_band_table_refuses_nodes_its_entries_cannot_number() -> None:
    keys = band_keys(signatures([LONG], WordHashes()))
    with pytest.raises(ValueError, match=r"at most 16,777,216 content nodes.*window_hours"):
        BandTable().add(list(keys.T), np.array([bands.MAX_NODES]), lambda nodes: np.ones(len(nodes), dtype=bool))


def test_one_batch_pairs_split_over_two_processes_equal_those_of_a_band_table(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 50, size=(400, 16), dtype=np.uint64) << np.uint64(40)  # many shared keys a band
    nodes, rows = np.arange(5, 305), rng.permutation(400)[:300]
    table = BandTable().add(list(keys.T), nodes, lambda held: np.ones(len(held), dtype=bool), rows)
    monkeypatch.setattr(bands, "MIN_SPLIT_TEXTS", 100)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    columns: list[np.ndarray | None] = list(keys.T)
    assert np.array_equal(batch_pairs(columns, nodes, rows), table)
    assert forks == [1]
    assert columns == [None] * 16


def test_band_keys_split_over_two_processes_equal_those_of_one(monkeypatch) -> None:
    texts = [f"{LONG} number {i} of many" for i in range(300)]
    here = text_band_keys(texts, WordHashes())
    monkeypatch.setattr(parallel, "MIN_SPLIT_ITEMS", 100)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    assert (text_band_keys(texts, WordHashes()) == here).all()
    assert forks == [1]


def _verified_one_by_one(left: str, right: str) -> bool:
    """The plain definition: ratio, and for long texts token_sort_ratio too, against the length's bar."""
    need = float(required_ratio(np.array(min(len(left), len(right)))))
    return fuzz.ratio(left, right) >= need or (min(len(left), len(right)) >= LONG_CHARS
                                               and fuzz.token_sort_ratio(left, right) >= need)


WORDS = ("vote", "for", "jane", "doe", "today", "she", "will", "fix", "the", "roads", "and", "more", "x", "y")
_words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_words, _words), min_size=1, max_size=20))
def test_pairs_ruled_out_by_length_are_exactly_those_that_would_fail(pairs: list[tuple[str, str]]) -> None:
    left, right = [a for a, _ in pairs], [b for _, b in pairs]
    assert near_copies(left, right).tolist() == [_verified_one_by_one(a, b) for a, b in pairs]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_words, _words, st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=20))
def test_length_ranges_never_rule_out_a_pair_that_verifies(pairs: list[tuple[str, str, int, int]]) -> None:
    left, right = [a for a, *_ in pairs], [b for _, b, *_ in pairs]
    ok = near_copies(left, right)
    chars_a, chars_b = np.array([len(a) for a in left]), np.array([len(b) for b in right])
    widen_a, widen_b = np.array([w for *_, w, _ in pairs]), np.array([w for *_, w in pairs])
    possible = could_be_copies(np.maximum(chars_a - widen_a, 1), chars_a + widen_b, chars_b - widen_b // 2,
                               chars_b + widen_a)
    assert not (ok & ~possible).any()
