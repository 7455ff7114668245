"""Texts prepared for the content index ahead of time, while the posts that carry them are still being read.

Normalising texts and computing their LSH band keys depend on the texts alone and are most of the
cost of indexing. A scan hands the texts of each block's posts over as soon as they are kept; a
forked child (see `parallel.Background`) numbers the distinct ones and normalises them meanwhile,
then computes their band keys while this process files the posts. Results are the same as
computing them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import count
from types import TracebackType

import numpy as np

from detectors import minhash
from detectors.normalize import normalize_text
from detectors.parallel import Background


class TextRows:
    """Distinct texts numbered in order of first appearance, over parts that arrive one by one."""

    def __init__(self) -> None:
        self._row: dict[str, int] = {}

    def add(self, texts: list[str]) -> tuple[np.ndarray, list[str]]:
        """The row of each of `texts`, and the texts not seen before in row order (C-level dict work)."""
        fresh = dict.fromkeys(texts)
        for text in fresh.keys() & self._row.keys():  # walks the smaller side
            del fresh[text]
        self._row.update(zip(fresh, count(len(self._row))))
        return np.fromiter(map(self._row.__getitem__, texts), dtype=np.int64, count=len(texts)), list(fresh)


def _prepare(parts: Iterable[list[str]]) -> Iterator[tuple[np.ndarray, list[str]] | np.ndarray]:
    """The row of every text and the normalised distinct texts by row; then their band keys by row."""
    numbering = TextRows()
    rows: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    normalized: list[str] = []
    for part in parts:
        part_rows, fresh = numbering.add(part)
        rows.append(part_rows)
        normalized.extend(map(normalize_text, fresh))
    yield np.concatenate(rows), normalized
    yield minhash.chunked_band_keys(normalized, minhash.WordHashes())


class PreparedTexts:
    """The texts added, normalised and MinHashed by a forked child, for the one `ContentIndex.add` of them."""

    def __init__(self) -> None:
        self._added: list[str] = []
        self._work: Background[str, tuple[np.ndarray, list[str]] | np.ndarray] = Background(_prepare)
        self._normalized: tuple[np.ndarray, list[str]] | None = None

    def __enter__(self) -> PreparedTexts:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._work.close()

    def add(self, texts: Iterable[str]) -> None:
        """Prepare these texts too, after those added before."""
        part = list(texts)
        self._added.extend(part)
        self._work.send(part)

    def normalized(self, texts: list[str]) -> tuple[np.ndarray, list[str]] | None:
        """For `texts` exactly as added (else None): each one's row, and the normalised distinct texts by row
        (rows number the distinct texts in order of first appearance, as `TextRows` does)."""
        if texts != self._added:  # the same objects: compared by identity, in C
            return None
        if self._normalized is None:
            self._normalized = self._work.receive()  # type: ignore[assignment]
        return self._normalized

    def band_keys(self, rows: list[int]) -> np.ndarray:
        """The band keys of the normalised texts of `rows` (see `minhash.band_keys`): the last of the work,
        after which the texts are let go (the index holds those it needs)."""
        keys = self._work.receive()[rows]  # type: ignore[index]
        self._work.close()
        self._added, self._normalized = [], None
        return keys
