"""Fingerprints of suspended campaigns: remembered with an expiry, listed and removed by moderators, counted
when a new post matches one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.fingerprints import Fingerprint, FingerprintKind
from storage.audit import AuditLog
from storage.database import from_db_time, to_db_time

SELECT = "SELECT id, kind, value, cluster_id, created_at, expires_at, matches FROM fingerprints"


class Fingerprints(AuditLog):
    """One row per (kind, value): a value two campaigns share belongs to the latest, and lasts as long as it does."""

    def remember_fingerprints(self, cluster_id: str, items: Sequence[tuple[FingerprintKind, str]],
                              expires_at: datetime) -> int:
        """Remember a suspended cluster's image hashes and text signatures until `expires_at`; returns how many
        were new. Remembering them again (a resumed decision) changes nothing but the expiry."""
        with self.atomic():
            before = self.count("fingerprints")
            self.db.conn.executemany(
                """INSERT INTO fingerprints (kind, value, cluster_id, created_at, expires_at, matches)
                   VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(kind, value) DO UPDATE SET cluster_id = excluded.cluster_id,
                   expires_at = max(expires_at, excluded.expires_at)""",
                [(kind, value, cluster_id, self.now(), to_db_time(expires_at)) for kind, value in items])
            added = self.count("fingerprints") - before
            if items:
                self.audit("fingerprints_remembered", "chorus", cluster_id=cluster_id, fingerprints=len(items),
                           new=added, expires_at=to_db_time(expires_at))
        return added

    def active_fingerprints(self) -> list[Fingerprint]:
        """Fingerprints not yet expired, newest first."""
        return [self._fingerprint(row) for row in self.db.execute(
            f"{SELECT} WHERE expires_at > ? ORDER BY created_at DESC, id DESC", [self.now()])]

    def remove_fingerprint(self, fingerprint_id: int, actor: str) -> Fingerprint | None:
        """Remove one fingerprint (a moderator found it too broad); returns what was removed, None if unknown."""
        with self.atomic():
            row = self.db.execute(f"{SELECT} WHERE id = ?", [fingerprint_id]).fetchone()
            if row is None:
                return None
            self.db.execute("DELETE FROM fingerprints WHERE id = ?", [fingerprint_id])
            removed = self._fingerprint(row)
            self.audit("fingerprint_removed", actor, cluster_id=removed.cluster_id, fingerprint=removed.id,
                       kind=removed.kind)
        return removed

    def forget_fingerprints(self, cluster_id: str, actor: str) -> int:
        """Drop a cluster's fingerprints (its suspension was undone); returns how many."""
        with self.atomic():
            forgotten = self.db.execute("DELETE FROM fingerprints WHERE cluster_id = ?", [cluster_id]).rowcount
            if forgotten:
                self.audit("fingerprints_forgotten", actor, cluster_id=cluster_id, fingerprints=forgotten)
        return forgotten

    def count_fingerprint_matches(self, fingerprint_ids: Sequence[int]) -> None:
        """Count one match more for each fingerprint a new post matched."""
        with self.atomic():
            for fingerprint_id in fingerprint_ids:
                self.db.execute("UPDATE fingerprints SET matches = matches + 1 WHERE id = ?", [fingerprint_id])

    @staticmethod
    def _fingerprint(row: tuple) -> Fingerprint:
        fingerprint_id, kind, value, cluster_id, created_at, expires_at, matches = row
        return Fingerprint(fingerprint_id, FingerprintKind(kind), value, cluster_id, from_db_time(created_at),
                           from_db_time(expires_at), matches)
