"""Which decisions this process is working on right now, so none is carried out twice at once and
none still running is taken for one left half done."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    """Decisions being carried out or undone by this process, and the half-done ones it saw last."""

    def __init__(self) -> None:
        self._busy: set[int] = set()
        self._sighted: set[int] = set()
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, decision_id: int) -> Iterator[bool]:
        """Mark a decision busy for the block; yields False (and marks nothing) when it already is."""
        with self._lock:
            free = decision_id not in self._busy
            self._busy.add(decision_id)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._busy.discard(decision_id)

    def stuck(self, half_done: set[int]) -> list[int]:
        """Of the decisions half done now, those also half done at the last call and not worked on now."""
        with self._lock:
            stuck = sorted((half_done & self._sighted) - self._busy)
            self._sighted = half_done - self._busy
        return stuck
