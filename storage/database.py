"""The database underneath every aggregate: one connection per thread, WAL, write transactions, the clock.

Every method that changes more than one row does so in one transaction, so a crash leaves
either all of a step or none of it; `atomic` blocks nest, so a use case can span several steps.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from domain.errors import UserError


class StorageError(UserError, RuntimeError):
    """The database cannot be opened or written; the message says which file and why."""


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text, so timestamps sort and compare as strings in SQL."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str | None) -> datetime | None:
    """The inverse of `to_db_time`."""
    return None if value is None else datetime.fromisoformat(value)


def json_list(values: Sequence[Any]) -> str:
    """A list bound as one JSON parameter, for `IN (SELECT value FROM json_each(?))`."""
    return orjson.dumps(list(values)).decode()


WAL_BACKSTOP_PAGES = 10_000
"""A commit checkpoints the write-ahead log itself only once it holds this many pages (~40 MB): the `checkpoint`
job does it between polls, so a poll's commit appends its pages and no more (SQLite's default, 1,000 pages, made
nearly every 700-post poll into a million-post table copy its ~2,500 pages into the database and sync it: ~50 ms)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def retry_while_locked(step: Callable[[], object], seconds: float = 30.0) -> None:
    """Run `step`, retrying while another process holds a lock SQLite will not wait for.

    Switching a brand-new database to WAL needs an exclusive lock, and SQLite reports "locked"
    at once rather than waiting when another process is creating the same database.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Database:
    """The Chorus database's connections and transactions; the aggregates build on it and `Store` opens it."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utcnow, lock_timeout: float = 30.0) -> None:
        self.path = path
        self.clock = clock
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._open: weakref.WeakSet[sqlite_utils.Database] = weakref.WeakSet()
        self._lock = threading.Lock()

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection: the poller, scheduled jobs and Slack listeners each get their own.

        SQLite in WAL mode lets them read concurrently while one writes; a writer waits `lock_timeout`.
        A connection is held only by its thread, so one that ends (an HTTP request's) frees it.
        """
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None,
                                       check_same_thread=False)
            except sqlite3.DatabaseError as error:
                raise StorageError(f"cannot open database {self.path}: {error}") from None
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
            conn.execute("PRAGMA foreign_keys=ON")
            db = self._local.db = sqlite_utils.Database(conn)
            with self._lock:
                self._open.add(db)
        return db

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for db in list(self._open):
                db.close()
            self._open.clear()
        self._local = threading.local()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

        The poller and each Slack listener thread have their own connection. A deferred BEGIN
        that reads and then writes fails at once with "database is locked" when another
        connection committed in between; taking the lock first makes SQLite wait its turn.
        Nested calls become savepoints.
        """
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            # a COMMIT that fails (disk full, I/O error) can leave the transaction open: every later
            # write on this connection would then nest inside it, never commit, and hold the lock
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def now(self) -> str:
        """The store's clock as database text."""
        return to_db_time(self.clock())

    def count(self, table: str) -> int:
        """Rows in one of the Chorus tables."""
        return self.db[table].count

    def checkpoint(self) -> int:
        """Copy the write-ahead log's committed pages into the database file without waiting on anyone (PASSIVE),
        beside the poller so that its commits do not pay for it; returns how many pages are left to copy (0 unless
        a reader still holds an older snapshot)."""
        _, logged, copied = self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return max(0, logged - copied)

    def compact(self, free_fraction: float = 0.25) -> bool:
        """Let SQLite refresh its statistics, and VACUUM when a quarter or more of the file is free pages."""
        self.db.execute("PRAGMA optimize")
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        if pages and free / pages >= free_fraction:
            self.db.execute("VACUUM")
            return True
        return False

