"""Texts prepared for the content index ahead of time, while the posts that carry them are still being read.

Normalising texts and computing their LSH band keys depend on the texts alone and are most of the
cost of indexing real posts (~20 µs and ~15 µs a tweet). A scan hands each block's texts over as
soon as they are kept: this process numbers the distinct ones (C-level dict work) and a pool of
worker processes (`parallel.worker_pool`, one per core) normalises and MinHashes each block's new
ones meanwhile, so every core works during the read. Results are the same as computing them here,
and any part a worker fails to return is computed here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import BrokenExecutor, Executor, Future
from itertools import count
from types import TracebackType

import numpy as np

from detectors import minhash
from detectors.nodes import MIN_FUZZY_CHARS
from detectors.normalize import normalize_text


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


_worker_words = minhash.WordHashes()
"""A worker process's word-hash cache, kept over the parts it prepares (unused in the parent)."""


def prepare(texts: list[str], words: minhash.WordHashes | None = None) -> tuple[list[str], np.ndarray]:
    """The normalised form of each text and its band keys (rows of zeros for texts too short to be matched
    fuzzily, whose keys the index never reads: ~10 % of real posts).

    Run by a pool worker with its own word cache, or here with `words`.
    """
    normalized = list(map(normalize_text, texts))
    keys = np.zeros((len(texts), minhash.BANDS), dtype=np.uint64)
    fuzzy = np.flatnonzero(np.fromiter(map(len, normalized), dtype=np.int64, count=len(normalized))
                           >= MIN_FUZZY_CHARS)
    if len(fuzzy):
        keys[fuzzy] = minhash.chunked_band_keys([normalized[at] for at in fuzzy.tolist()],
                                                _worker_words if words is None else words)
    return normalized, keys


class PreparedTexts:
    """The texts added, normalised and MinHashed by `pool`'s workers, for the one `ContentIndex.add` of them.

    With no pool (forking unsafe), the work is done here when it is asked for, with the same results.
    """

    def __init__(self, pool: Executor | None = None) -> None:
        self._pool = pool
        self._added: list[str] = []
        self._numbering = TextRows()
        self._rows: list[np.ndarray] = []
        self._parts: list[tuple[list[str], Future[tuple[list[str], np.ndarray]] | None]] = []
        self._done: tuple[np.ndarray, list[str], list[np.ndarray]] | None = None

    def __enter__(self) -> PreparedTexts:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for _, future in self._parts:
            if future is not None:
                future.cancel()
        self._parts = []

    def add(self, texts: Iterable[str]) -> None:
        """Prepare these texts too, after those added before; their new distinct texts go to a worker now."""
        part = list(texts)
        self._added.extend(part)
        rows, fresh = self._numbering.add(part)
        self._rows.append(rows)
        if fresh:
            self._parts.append((fresh, self._submit(fresh)))

    def _submit(self, fresh: list[str]) -> Future[tuple[list[str], np.ndarray]] | None:
        """Hand `fresh` to a worker; None once the pool is unusable (its parts are then prepared here)."""
        if self._pool is not None:
            try:
                return self._pool.submit(prepare, fresh)
            except (BrokenExecutor, RuntimeError):  # a worker died, or the pool was shut down
                self._pool = None
        return None

    def _results(self) -> tuple[np.ndarray, list[str], list[np.ndarray]]:
        """Every added text's row, the normalised distinct texts by row and their band keys by row, one array
        a band (see `BandTable.add`), once all are back; each part is let go of as soon as it is copied."""
        if self._done is None:
            normalized: list[str] = []
            total = sum(len(fresh) for fresh, _ in self._parts)
            columns = [np.empty(total, dtype=np.uint64) for _ in range(minhash.BANDS)]
            words = minhash.WordHashes()
            parts, self._parts = deque(self._parts), []
            while parts:
                fresh, future = parts.popleft()
                part_texts, part_keys = _result(future) or prepare(fresh, words)
                for column, band_keys in zip(columns, part_keys.T, strict=True):
                    column[len(normalized):len(normalized) + len(fresh)] = band_keys
                normalized.extend(part_texts)
            self._let_go_of_pool()
            rows = np.concatenate(self._rows) if self._rows else np.zeros(0, dtype=np.int64)
            self._done = rows, normalized, columns
            self._rows, self._numbering = [], TextRows()
        return self._done

    def _let_go_of_pool(self) -> None:
        """Shut the pool down once every part is back: its threads gone, the index work after it may fork
        (`parallel.split_map`) onto the cores its workers held."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def normalized(self, texts: list[str]) -> tuple[np.ndarray, list[str]] | None:
        """For `texts` exactly as added (else None): each one's row, and the normalised distinct texts by row
        (rows number the distinct texts in order of first appearance, as `TextRows` does)."""
        if texts != self._added:  # the same objects: compared by identity, in C
            return None
        rows, normalized, _ = self._results()
        return rows, normalized

    def band_keys(self) -> list[np.ndarray]:
        """The band keys of the normalised texts by row, one array a band (see `minhash.band_keys`): the last
        of the work, after which the texts are let go (the index holds those it needs)."""
        columns = self._results()[2]
        self._added, self._done = [], None
        return columns


def _result(future: Future[tuple[list[str], np.ndarray]] | None) -> tuple[list[str], np.ndarray] | None:
    """A worker's result, or None if there was no worker or it failed (the part is then prepared here)."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # a worker that died or failed: the same work is done in this process
        return None
