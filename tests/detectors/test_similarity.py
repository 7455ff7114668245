"""Near-copy verification and MinHash blocking."""

import os

import numpy as np

from detectors import parallel
from detectors.bands import BandTable
from detectors.minhash import WordHashes, band_keys, signatures, text_band_keys
from detectors.similarity import near_copies

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
    pairs = table.add(keys, np.arange(3), lambda nodes: np.ones(len(nodes), dtype=bool))
    assert {tuple(p) for p in pairs.tolist()} == {(1, 0)}


def test_band_keys_split_over_two_processes_equal_those_of_one(monkeypatch) -> None:
    texts = [f"{LONG} number {i} of many" for i in range(300)]
    here = text_band_keys(texts, WordHashes())
    monkeypatch.setattr(parallel, "MIN_SPLIT_ITEMS", 100)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    assert (text_band_keys(texts, WordHashes()) == here).all()
    assert forks == [1]
