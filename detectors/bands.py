"""An append-only, log-structured table of LSH band keys held in sorted numpy segments.

A million texts x 16 bands would cost >1 GB as Python dict entries; sorted uint64 arrays cost
16 bytes an entry, and `searchsorted` finds each new key's earliest holder in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MAX_SEGMENTS = 8
"""Past this many segments they are merged into one, dropping entries of dead texts."""


class BandTable:
    """Band keys of every indexed text; `match` pairs new texts with the first holder of a key."""

    def __init__(self) -> None:
        self._segments: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._segments)

    def add(
        self, keys: np.ndarray, nodes: np.ndarray, alive: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """Insert `keys` (texts x bands) of `nodes`; return candidate pairs (new, earlier) as (n, 2)."""
        flat_keys = keys.ravel()
        flat_nodes = np.repeat(nodes, keys.shape[1])
        order = np.argsort(flat_keys, kind="stable")
        flat_keys, flat_nodes = flat_keys[order], flat_nodes[order]
        first = np.ones(len(flat_keys), dtype=bool)
        first[1:] = flat_keys[1:] != flat_keys[:-1]
        group_first = flat_nodes[np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))]
        pairs = [np.column_stack([flat_nodes[~first], group_first[~first]])]
        for seg_keys, seg_nodes in self._segments:
            at = np.searchsorted(seg_keys, flat_keys)
            hit = at < len(seg_keys)
            hit[hit] = seg_keys[at[hit]] == flat_keys[hit]
            pairs.append(np.column_stack([flat_nodes[hit], seg_nodes[at[hit]]]))
        self._segments.append((flat_keys, flat_nodes))
        if len(self._segments) > MAX_SEGMENTS:
            self._compact(alive)
        found = np.concatenate(pairs)
        found = found[found[:, 0] != found[:, 1]]
        return np.unique(found, axis=0) if len(found) else found

    def _compact(self, alive: Callable[[np.ndarray], np.ndarray]) -> None:
        keys = np.concatenate([k for k, _ in self._segments])
        nodes = np.concatenate([n for _, n in self._segments])
        keep = alive(nodes)
        keys, nodes = keys[keep], nodes[keep]
        order = np.lexsort((nodes, keys))
        self._segments = [(keys[order], nodes[order])]
