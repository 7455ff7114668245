"""A log-structured table of LSH band keys held in sorted numpy segments.

A million texts x 16 bands would cost >1 GB as Python dict entries. Here an entry is one uint64,
the key's high 40 bits above the holder's node number, and `searchsorted` finds each new key's
earliest holder (its smallest node) in microseconds, stepping past holders whose posts all left.
A new batch is sorted as packed integers (high key bits | position in the batch), several times
faster than an argsort; segments of similar size are merged (like an LSM tree), dropping dead
entries, so a poll never waits for a re-sort of the whole window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import add

import numpy as np

from detectors.parallel import split_map

_POSITION_BITS = 24
_POSITION = np.uint64((1 << _POSITION_BITS) - 1)
_KEY = ~_POSITION
MAX_BATCH = 1 << _POSITION_BITS
"""Texts one batch's sort can place (`_sorted_batch`: positions must fit the packed low bits)."""
MAX_NODES = 1 << _POSITION_BITS
"""Nodes a table can number: a table entry packs its node into the low bits (a million-post window has ~1.5M)."""
_STEPS = 4
"""Entries a key's run is stepped through one at a time, as arrays, before the rest of the run is read whole."""
MIN_SPLIT_TEXTS = 200_000
"""`batch_pairs` of fewer texts stays in this process: a fork costs 10-100 ms, banding 200k texts ~0.4 s."""


class BandTable:
    """Band keys of every indexed text; `add` pairs new texts with the first live holder of a shared key.

    Each band is its own table, so one band's keys and temporaries are in memory at a time. Nodes must
    be added in ascending order, each once: the first holder of a key is then its smallest node.
    """

    def __init__(self) -> None:
        self._bands: list[list[np.ndarray]] = []
        """Each band's sorted segments of packed entries (key bits | node), oldest first."""

    def __len__(self) -> int:
        return sum(len(entries) for segments in self._bands for entries in segments)

    def add(
        self, columns: list[np.ndarray | None], nodes: np.ndarray, alive: Callable[[np.ndarray], np.ndarray],
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Insert the band keys of `nodes`; return candidate pairs (new, earlier) as (n, 2).

        `columns[band]` holds every text's key in that band, or the keys of which `rows` are these
        nodes'. Each column is let go of (set to None) once inserted, so a million texts' keys give
        their memory back as the table takes them. Only the 40 high bits of a key are kept: a
        chance collision costs one verification.
        """
        if len(nodes) and int(nodes.max()) >= MAX_NODES:
            raise ValueError(f"a band table numbers at most {MAX_NODES:,} content nodes and this index has more: "
                             "shorten detection.window_hours, or scan a file this large with --engine spark")
        rows = np.arange(len(nodes)) if rows is None else rows
        if not self._bands:
            self._bands = [[] for _ in columns]
        nodes = nodes.astype(np.int32)  # distinct and below MAX_NODES: their positions fit a batch's packed bits
        band_pairs = []
        for band, segments in enumerate(self._bands):
            column, columns[band] = columns[band], None
            assert column is not None
            band_pairs.append(_packed(self._add_band(segments, column[rows], nodes, alive)))
        return _unpacked(band_pairs)

    def compact(self, renumber: np.ndarray) -> np.ndarray:
        """Renumber nodes (`renumber[old]`, -1 for a dropped node) into one segment a band; return
        every (holder, first holder of its key) pair, the candidates of indexing the kept texts anew."""
        found = []
        for segments in self._bands:
            entries = np.concatenate(segments)
            nodes = renumber[(entries & _POSITION).astype(np.intp)]
            keep = nodes >= 0
            # renumbering keeps node order, so each segment stays a sorted run: a stable sort merges the runs
            entries = np.sort((entries[keep] & _KEY) | nodes[keep].astype(np.uint64), kind="stable")
            keys, nodes = entries & _KEY, (entries & _POSITION).astype(np.int32)
            first, holder = _first_holders(keys, nodes)
            found.append(_packed(np.column_stack([nodes[~first], holder[~first]])))
            segments[:] = [entries]
        return _unpacked(found)

    @staticmethod
    def _add_band(segments: list[np.ndarray], keys: np.ndarray, nodes: np.ndarray,
                  alive: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """One band: pair each new key with its first live holder, in the batch or in each older segment."""
        flat_keys, flat_nodes, first, holder = _sorted_batch(keys, nodes)
        pairs = [np.column_stack([flat_nodes[~first], holder[~first]])]
        lead_keys, lead_nodes = flat_keys[first], flat_nodes[first]
        for entries in segments:
            holders = _first_live_holders(entries, lead_keys, alive)
            hit = holders >= 0
            pairs.append(np.column_stack([lead_nodes[hit], holders[hit]]))
        segments.append(flat_keys | flat_nodes.astype(np.uint64))  # batch order is node order: still sorted
        while len(segments) > 1 and 2 * len(segments[-1]) >= len(segments[-2]):
            _merge_last(segments, alive)
        return np.concatenate(pairs)


def batch_pairs(columns: list[np.ndarray | None], nodes: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """The candidate pairs `BandTable().add` gives for one batch of at most MAX_BATCH texts, without keeping the
    table: for an index that takes one batch (a scan). Half of the bands are done by a forked child (`split_map`).

    Columns are let go of as they are done, as `BandTable.add` does.
    """
    rows = np.arange(len(nodes)) if rows is None else rows
    nodes = nodes.astype(np.int32)

    def pairs_of(bands: Sequence[int]) -> list[np.ndarray]:
        found = []
        for band in bands:
            column, columns[band] = columns[band], None
            assert column is not None
            flat_keys, flat_nodes, first, holder = _sorted_batch(column[rows], nodes)
            del column, flat_keys
            found.append(_packed(np.column_stack([flat_nodes[~first], holder[~first]])))
        return found

    bands = range(len(columns))
    found = split_map(pairs_of, bands, add, min_items=2) if len(nodes) >= MIN_SPLIT_TEXTS else pairs_of(bands)
    columns[:] = [None] * len(columns)
    return _unpacked(found)


def _sorted_batch(keys: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One band's keys of a batch, sorted (equal keys in batch order), and their nodes; whether each entry is the
    first of its key, and the node of that first entry."""
    packed = np.sort((keys & _KEY) | np.arange(len(keys), dtype=np.uint64))
    flat_keys, flat_nodes = packed & _KEY, nodes[(packed & _POSITION).astype(np.intp)]
    del packed
    return flat_keys, flat_nodes, *_first_holders(flat_keys, flat_nodes)


def _first_live_holders(entries: np.ndarray, keys: np.ndarray, alive: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """For each of `keys`, the node of its first entry in the sorted `entries` whose node is alive (-1: none).

    Entries of dead nodes stay in a segment until it is merged or compacted, and being the oldest, they lead
    their keys' runs: pairing with the first entry alone missed the live holders behind a dead one, which a
    fresh index of the live posts finds. Runs are stepped through a few entries at once, then read whole.
    """
    holders = np.full(len(keys), -1, dtype=np.int64)
    at = np.searchsorted(entries, keys)  # the first entry of a key: its smallest node
    pending = np.flatnonzero(at < len(entries))
    for _ in range(_STEPS):
        pending = pending[entries[at[pending]] & _KEY == keys[pending]]
        nodes = (entries[at[pending]] & _POSITION).astype(np.intp)
        live = alive(nodes)
        holders[pending[live]] = nodes[live]
        pending = pending[~live]
        at[pending] += 1
        pending = pending[at[pending] < len(entries)]
        if not len(pending):
            return holders
    ends = np.searchsorted(entries, keys[pending] | _POSITION, side="right")
    for where, begin, end in zip(pending.tolist(), at[pending].tolist(), ends.tolist(), strict=True):
        nodes = (entries[begin:end] & _POSITION).astype(np.intp)
        live = np.flatnonzero(alive(nodes))
        if len(live):
            holders[where] = nodes[live[0]]
    return holders


def _first_holders(keys: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted `keys`: whether each entry is the first of its key, and the node of that first entry."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first, nodes[np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))]


def _packed(pairs: np.ndarray) -> np.ndarray:
    """The distinct pairs of nodes among `pairs` (n, 2) that join two different nodes, each packed in a uint64.

    Done band by band: the bands of a million texts can hold several million candidate pairs, most
    of them found in more than one band, and only the distinct ones are worth keeping.
    """
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return sorted_distinct((pairs[:, 0].astype(np.uint64) << np.uint64(32)) | pairs[:, 1].astype(np.uint64))


def _unpacked(found: list[np.ndarray]) -> np.ndarray:
    """The distinct pairs (n, 2) of int64 nodes among the packed pairs of every band, in ascending order."""
    distinct = sorted_distinct(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)
    return np.column_stack([distinct >> np.uint64(32), distinct & np.uint64(0xFFFFFFFF)]).astype(np.int64)


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """`np.unique` of a fresh array, sorted in place: numpy's hash-based unique holds a table several times
    the size of millions of candidate pairs, the peak of a million-post scan, and takes ~7x longer."""
    values.sort()
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _merge_last(segments: list[np.ndarray], alive: Callable[[np.ndarray], np.ndarray]) -> None:
    """Merge the newest segment into the one before it, dropping the entries of dead nodes.

    A stable sort of the two sorted runs end to end merges them in one pass (timsort finds the runs): about
    half the time of placing the new entries by binary search, which a poll pays for at its largest merges.
    """
    merged = np.sort(np.concatenate([segments[-2], segments.pop()]), kind="stable")
    segments[-1] = merged[alive((merged & _POSITION).astype(np.intp))]
