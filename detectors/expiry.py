"""The window's posts by time, so the ones past the horizon can be let go of.

A million windowed posts held as heap entries of (time, id) cost a 64-byte tuple each; here each
added batch is one array of times and one list of ids, sorted, and a heap orders the batches by
their oldest remaining post: 16 bytes a post, and a poll touches only the batches that expire.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from itertools import count

import numpy as np


class ExpiryQueue:
    """Post ids with their times; `expire` hands back those older than a horizon."""

    def __init__(self) -> None:
        self._batches: list[tuple[float, int, np.ndarray, list[str]]] = []
        """(oldest time, batch number, sorted times, ids in that order) of what is left of each batch."""
        self._numbers = count()
        self._held = 0

    def __len__(self) -> int:
        return self._held

    def add(self, ids: Sequence[str], times: Sequence[datetime]) -> None:
        """Hold these posts (ids[i] posted at times[i]) until they expire."""
        if not ids:
            return
        stamps = np.fromiter((moment.timestamp() for moment in times), dtype=np.float64, count=len(times))
        order = np.argsort(stamps, kind="stable")
        stamps = stamps[order]
        held = [ids[at] for at in order.tolist()]
        heapq.heappush(self._batches, (float(stamps[0]), next(self._numbers), stamps, held))
        self._held += len(held)

    def expire(self, horizon: datetime) -> list[str]:
        """Take out and return the ids of the posts older than `horizon` (batch by batch, each in time order)."""
        limit = horizon.timestamp()
        expired: list[str] = []
        batches = self._batches
        while batches and batches[0][0] < limit:
            _, number, stamps, ids = heapq.heappop(batches)
            end = int(np.searchsorted(stamps, limit, side="left"))
            expired.extend(ids[:end])
            if end < len(ids):  # the rest of the batch, without the expired ids (their strings are let go of)
                heapq.heappush(batches, (float(stamps[end]), number, stamps[end:].copy(), ids[end:]))
        self._held -= len(expired)
        return expired
