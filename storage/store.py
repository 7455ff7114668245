"""The one facade over the Chorus database: `Store`, whose intention-revealing methods are all that
touches tables. Behind it, one small module per aggregate:

    posts.py      posts, accounts and cursors: ingest, the detection window, retention, lookups
    clusters.py   clusters and the outbox of members no card has announced
    decisions.py  decisions and the platform actions carrying them out
    claims.py     who has taken each waiting cluster, and the queue App Home lists
    audit.py      the append-only audit log
    reports.py    digests, and which were posted
    requests.py   signatures of Slack requests already accepted
    drafts.py     accounts ticked so far in a review modal with several pages
    fingerprints.py     suspended campaigns' image hashes and text signatures, until they expire
    open_reports.py     the platform's unresolved reports about accounts
    findings.py   what was looked up about a cluster: local follows of its remote domain, siblings searched
    database.py   connections, transactions (`atomic`) and the clock they share
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from storage.clusters import Clusters
from storage.database import StorageError, retry_while_locked, utcnow
from storage.drafts import ReviewDrafts
from storage.fingerprints import Fingerprints
from storage.posts import Posts
from storage.reports import Reports
from storage.requests import SeenRequests
from storage.schema import SchemaTooNew, migrate


class Store(Clusters, Posts, Reports, SeenRequests, ReviewDrafts, Fingerprints):
    """The Chorus database. Open with `Store.open(path)`; tests pass a clock they control."""

    @classmethod
    def open(cls, path: str | Path, clock: Callable[[], datetime] = utcnow, lock_timeout: float = 30.0) -> Store:
        """Open (creating if needed) and migrate the database at `path`, in WAL mode.

        A writer waits up to `lock_timeout` seconds for another to finish before "database is locked".
        """
        path = Path(path)
        if not path.parent.exists():
            raise StorageError(f"cannot open database {path}: folder {path.parent} does not exist")
        store = cls(path, clock, lock_timeout)
        try:
            retry_while_locked(store.db.enable_wal)
            migrate(store.db)
        except (sqlite3.DatabaseError, SchemaTooNew) as error:
            store.close()
            raise StorageError(f"cannot open database {path}: {error}") from None
        return store
