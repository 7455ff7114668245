"""Near-same pictures: every indexed pHash, its bands kept sorted, so new ones meet their close matches by search.

Two 64-bit pHashes within MAX_PHASH_DISTANCE bits agree on at least one of PHASH_BANDS bands
(pigeonhole). Each band's keys are kept sorted as pictures arrive: a poll's few new ones are
inserted into the sorted arrays, not sorted again with the whole window's, so matching costs what
a poll adds.
"""

from __future__ import annotations

from array import array

import numpy as np

from detectors.media import MAX_PHASH_DISTANCE, PHASH_BANDS

CHUNK = 16384
"""New pHashes matched per step: bounds the candidate pairs held at once (a band's can run to millions)."""
_WIDTH = -(-64 // PHASH_BANDS)


class PHashTable:
    """The pHash of each picture node filed, in arrival order, and each band's keys sorted (equal keys in arrival
    order, as a stable sort of all of them would put them)."""

    def __init__(self) -> None:
        self._nodes = array("q")
        self._values = array("Q")
        self._ranked = [np.zeros(0, dtype=np.uint64) for _ in range(PHASH_BANDS)]
        self._order = [np.zeros(0, dtype=np.int32) for _ in range(PHASH_BANDS)]
        """Where in arrival order each entry of `_ranked` came."""

    def __len__(self) -> int:
        return len(self._values)

    def add(self, nodes: list[int], values: list[int]) -> list[tuple[int, int]]:
        """File the pHash `values` of new `nodes`; return each (new node, filed node) pair within
        MAX_PHASH_DISTANCE bits, band by band, each new node's in the order its matches arrived."""
        if not nodes:
            return []
        first = len(self._values)
        self._nodes.extend(nodes)
        self._values.extend(values)
        every = np.frombuffer(self._values, dtype=np.uint64)
        new = every[first:]
        found = []
        for band in range(PHASH_BANDS):
            shift, mask = np.uint64(band * _WIDTH), np.uint64((1 << _WIDTH) - 1)
            keys = (new >> shift) & mask
            arrival = np.argsort(keys, kind="stable")
            at = np.searchsorted(self._ranked[band], keys[arrival], "right")
            self._ranked[band] = ranked = np.insert(self._ranked[band], at, keys[arrival])
            self._order[band] = order = np.insert(self._order[band], at, (first + arrival).astype(np.int32))
            for begin in range(0, len(new), CHUNK):
                wanted = keys[begin:begin + CHUNK]
                low, high = np.searchsorted(ranked, wanted, "left"), np.searchsorted(ranked, wanted, "right")
                counts = high - low
                source = np.repeat(np.arange(begin, begin + len(wanted)), counts)
                target = order[np.repeat(low - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
                close = np.bitwise_count(new[source] ^ every[target]) <= MAX_PHASH_DISTANCE
                found.append(np.column_stack([first + source[close], target[close]]))
        del every, new  # views of the arrays, which cannot grow while they are held
        pairs = np.concatenate(found)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        owners = np.frombuffer(self._nodes, dtype=np.int64)
        return list(zip(owners[pairs[:, 0]].tolist(), owners[pairs[:, 1]].tolist(), strict=True))

    def kept(self, mapping: list[int]) -> list[int]:
        """The nodes still live (`mapping[node]` >= 0), renumbered by `mapping`, in arrival order."""
        return [mapping[node] for node in self._nodes if mapping[node] >= 0]
