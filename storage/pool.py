"""One `Store` connection per thread, for Slack listeners that run on Bolt's worker threads.

A sqlite3 connection carries one transaction at a time; sharing it between threads would let
one listener's `atomic()` swallow another's writes. Separate connections in WAL mode are safe,
and SQLite's own locking arbitrates between them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from storage.store import Store, utcnow


class StorePool:
    """Hands each thread its own `Store` on the same database file."""

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    def get(self) -> Store:
        """This thread's store, opened on first use."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.path, self.clock)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        """Close every connection the pool opened."""
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()
