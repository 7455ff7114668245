"""MinHash signatures and LSH band keys in numpy, so near-duplicate texts meet without all-pairs work.

Shingles are word unigrams minus a background stopword list, plus word bigrams. 64 hashes in 16
bands of 4 rows: two texts sharing 70 % of their shingles collide in some band with probability
~0.98, at 30 % with ~0.12; verification then decides.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence

import numpy as np

NUM_HASHES = 64
BANDS = 16
ROWS = NUM_HASHES // BANDS
CHUNK_POSTS = 8192
"""Texts per vectorised step; bounds the (shingles x hashes) temporary to ~100 MB."""

_STOPWORD_TEXT = (
    "a an and are as at be been but by for from had has have he her his i if in into is it its just me "
    "my no not of on or our so that the their them then there they this to too us was we were what when "
    "which who will with you your rt im am do dont can get got go all out up"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Background words that say nothing about which message a text is."""

_rng = np.random.default_rng(20260220)
_MUL = _rng.integers(1, 2**63, size=NUM_HASHES, dtype=np.uint64) | np.uint64(1)
_ADD = _rng.integers(0, 2**63, size=NUM_HASHES, dtype=np.uint64)
_BAND_MUL = _rng.integers(1, 2**63, size=ROWS, dtype=np.uint64) | np.uint64(1)
_EMPTY = np.uint32(0xFFFFFFFF)


def shingles(words: Sequence[str]) -> set[str]:
    """Content words and adjacent word pairs of a normalised text."""
    found = {word for word in words if word not in STOPWORDS}
    found.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return found


def _shingle_hashes(texts: Sequence[str], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Flat 32-bit shingle hashes of all texts and each text's start offset."""
    flat: list[int] = []
    starts = np.empty(len(texts), dtype=np.int64)
    for index, text in enumerate(texts):
        starts[index] = len(flat)
        for shingle in shingles(text.split()):
            code = vocabulary.get(shingle)
            if code is None:
                code = vocabulary[shingle] = zlib.crc32(shingle.encode())
            flat.append(code)
    return np.asarray(flat, dtype=np.uint64), starts


def signatures(texts: Sequence[str], vocabulary: dict[str, int]) -> np.ndarray:
    """One row of NUM_HASHES uint32 minima per text; a text without shingles gets all-max."""
    out = np.full((len(texts), NUM_HASHES), _EMPTY, dtype=np.uint32)
    for begin in range(0, len(texts), CHUNK_POSTS):
        chunk = texts[begin:begin + CHUNK_POSTS]
        flat, starts = _shingle_hashes(chunk, vocabulary)
        if not len(flat):
            continue
        hashed = ((flat[:, None] * _MUL + _ADD) >> np.uint64(32)).astype(np.uint32)
        filled = np.append(starts[1:], len(flat)) > starts
        out[begin + np.flatnonzero(filled)] = np.minimum.reduceat(hashed, starts[filled], axis=0)
    return out


def band_keys(signature_rows: np.ndarray) -> np.ndarray:
    """(texts, BANDS) uint64 keys; equal keys in a column mean equal rows in that band."""
    rows = signature_rows.astype(np.uint64).reshape(len(signature_rows), BANDS, ROWS)
    return (rows * _BAND_MUL).sum(axis=2, dtype=np.uint64) + np.arange(BANDS, dtype=np.uint64)
