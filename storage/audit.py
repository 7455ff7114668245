"""The audit log: append-only (SQLite triggers refuse updates and deletes), read back as `AuditEntry`s."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from domain.lookups import AuditEntry
from storage.database import Database, to_db_time


class AuditLog(Database):
    """Who did what, when: every flag, decision, refusal, approval, undo and platform call."""

    def audit(self, event: str, actor: str, cluster_id: str | None = None, decision_id: int | None = None,
              account_id: str | None = None, **detail: Any) -> None:
        """Append one entry to the audit log (the table refuses updates and deletes)."""
        with self.atomic():
            self.db["audit_log"].insert({
                "at": self.now(), "actor": actor, "event": event, "cluster_id": cluster_id,
                "decision_id": decision_id, "account_id": account_id,
                "detail": orjson.dumps(detail, default=str).decode(),
            })

    def audit_entries(self, since: datetime | None = None) -> list[AuditEntry]:
        """Audit log entries, oldest first."""
        start = to_db_time(since) if since else ""
        return [
            AuditEntry(entry_id, datetime.fromisoformat(at), actor, event, cluster_id, decision_id, account_id,
                       orjson.loads(detail))
            for entry_id, at, actor, event, cluster_id, decision_id, account_id, detail in self.db.execute(
                "SELECT id, at, actor, event, cluster_id, decision_id, account_id, detail FROM audit_log "
                "WHERE at >= ? ORDER BY id", [start],
            )
        ]
