"""Decisions and the platform actions carrying them out: recorded, moved by the domain's table, audited.

Each write here is one transaction on its own and nests inside a caller's `atomic()`, so a use case
can make a decision's move and its cluster's status land together.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from domain.decisions import (
    ACTIVE_STATUSES,
    FINISHED,
    FIRST_STATUSES,
    PRIMARY_ACTIONS,
    Action,
    AttemptStatus,
    DecisionStatus,
    sources_of,
)
from domain.queue import DecidedCluster
from domain.views import DecisionView
from storage.audit import AuditLog
from storage.database import from_db_time, json_list, to_db_time


class Decisions(AuditLog):
    """Decisions on clusters, and one action attempt per (decision, action, account)."""

    def record_decision(
        self, cluster_id: str, action: Action, accounts: Sequence[str], moderator: str,
        reason: str = "", policy: str = "", status: DecisionStatus = DecisionStatus.APPROVED,
        undoes: int | None = None, plan: Mapping[str, Action] | None = None, late_batch: int | None = None,
        dry_run: bool = False,
    ) -> int:
        """Record a moderator's decision (or the undo of decision `undoes`) and audit it; returns its id.

        `plan` gives accounts an action other than `action` (see `DecisionView.plan`); a `dry_run` decision is
        never sent to the platform.
        """
        if status not in FIRST_STATUSES:
            raise ValueError(f"a decision cannot start as {status}")
        plan = {account: act for account, act in (plan or {}).items() if act != action}
        with self.atomic():
            decision_id = self.db["decisions"].insert({
                "cluster_id": cluster_id, "action": action, "accounts": orjson.dumps(list(accounts)).decode(),
                "moderator": moderator, "reason": reason, "policy": policy, "status": status,
                "created_at": self.now(), "undoes": undoes, "plan": orjson.dumps(plan).decode() if plan else None,
                "late_batch": late_batch, "dry_run": int(dry_run),
            }).last_pk
            others = {str(act): n for act, n in Counter(plan.values()).items()}
            self.audit("decision_recorded", moderator, cluster_id=cluster_id, decision_id=decision_id,
                       action=action, accounts=len(accounts), reason=reason, policy=policy, status=status,
                       undoes=undoes, late_batch=late_batch, **({"others": others} if others else {}),
                       **({"dry_run": True} if dry_run else {}))
        return int(decision_id)

    def claim_decision(
        self, cluster_id: str, action: Action, accounts: Sequence[str], moderator: str,
        reason: str = "", policy: str = "", status: DecisionStatus = DecisionStatus.APPROVED,
        plan: Mapping[str, Action] | None = None, late_batch: int | None = None, dry_run: bool = False,
    ) -> int | None:
        """Record a decision only if the cluster has no live one; None (audited) if another got there first.

        The unique partial index `decisions_one_active` makes the check and the insert one atomic
        step, so two concurrent clicks (even through separate connections) cannot both win.
        """
        try:
            return self.record_decision(cluster_id, action, accounts, moderator, reason, policy, status, plan=plan,
                                        late_batch=late_batch, dry_run=dry_run)
        except sqlite3.IntegrityError:
            self.audit("decision_refused", moderator, cluster_id=cluster_id, action=action,
                       why="the cluster already has a decision")
            return None

    def move_decision(self, decision_id: int, to_status: DecisionStatus, actor: str,
                      from_statuses: Sequence[DecisionStatus] | None = None, approved_by: str | None = None) -> bool:
        """Move a decision to `to_status` in one conditional UPDATE, audited; False if it was not in a status
        that may move there (by the domain's table, narrowed to `from_statuses` when given).

        With `approved_by`, the move also fails when that moderator is the one who asked.
        """
        allowed = sources_of(to_status)
        sources = allowed if from_statuses is None else tuple(from_statuses)
        if not set(sources) <= set(allowed):
            raise ValueError(f"a decision cannot move from {sorted(set(sources) - set(allowed))} to {to_status}")
        with self.atomic():
            moved = self.db.execute(
                """UPDATE decisions SET status = ?, approved_by = coalesce(?, approved_by),
                   finished_at = CASE WHEN ? THEN ? ELSE finished_at END
                   WHERE id = ? AND status IN (SELECT value FROM json_each(?)) AND (? IS NULL OR moderator != ?)""",
                [to_status, approved_by, to_status in FINISHED, self.now(), decision_id, json_list(sources),
                 approved_by, approved_by],
            ).rowcount == 1
            if moved:
                self.audit("decision_" + to_status, actor, cluster_id=self.decision_cluster(decision_id),
                           decision_id=decision_id)
        return moved

    def _decision_view(self, row: dict[str, Any]) -> DecisionView:
        failures = dict(self.db.execute(
            "SELECT account_id, detail FROM actions WHERE decision_id = ? AND status = ? ORDER BY account_id",
            [row["id"], AttemptStatus.FAILED],
        ).fetchall())
        return DecisionView(
            id=row["id"], action=Action(row["action"]), moderator=row["moderator"],
            status=DecisionStatus(row["status"]), created_at=from_db_time(row["created_at"]),
            accounts=orjson.loads(row["accounts"]), reason=row["reason"] or "", policy=row["policy"] or "",
            approved_by=row["approved_by"] or "", finished_at=from_db_time(row["finished_at"]), failures=failures,
            plan={account: Action(act) for account, act in orjson.loads(row["plan"]).items()} if row["plan"] else {},
            late_batch=row["late_batch"], dry_run=bool(row["dry_run"]),
        )

    def decisions_for(self, cluster_id: str) -> list[DecisionView]:
        """Decisions on a cluster, oldest first."""
        return [self._decision_view(row)
                for row in self.db.query("SELECT * FROM decisions WHERE cluster_id = ? ORDER BY id", [cluster_id])]

    def decision(self, decision_id: int) -> DecisionView | None:
        """One decision, or None."""
        rows = list(self.db.query("SELECT * FROM decisions WHERE id = ?", [decision_id]))
        return self._decision_view(rows[0]) if rows else None

    def decisions_in_status(self, statuses: Sequence[DecisionStatus]) -> list[DecisionView]:
        """Decisions in any of `statuses`, oldest first (after a crash: the ones left half done)."""
        return [self._decision_view(row) for row in self.db.query(
            "SELECT * FROM decisions WHERE status IN (SELECT value FROM json_each(?)) ORDER BY id",
            [json_list(statuses)],
        )]

    def account_decisions(self, account_id: str) -> list[DecisionView]:
        """Decisions that named an account, oldest first."""
        return [self._decision_view(row) for row in self.db.query(
            "SELECT * FROM decisions WHERE EXISTS (SELECT 1 FROM json_each(decisions.accounts) WHERE value = ?) "
            "ORDER BY id", [account_id],
        )]

    def decided_by(self, moderator: str, since: datetime) -> list[DecidedCluster]:
        """The decisions a moderator took (not undos) since `since`, newest first, with the card of each."""
        return [
            DecidedCluster(row["cluster_id"], row["id"], Action(row["action"]), row["accounts"],
                           DecisionStatus(row["status"]), from_db_time(row["created_at"]), row["channel"],
                           row["message_ts"])
            for row in self.db.query(
                """SELECT d.id, d.cluster_id, d.action, json_array_length(d.accounts) AS accounts, d.status,
                          d.created_at, c.channel, c.message_ts
                   FROM decisions d JOIN clusters c ON c.id = d.cluster_id
                   WHERE d.moderator = ? AND d.created_at >= ? AND d.undoes IS NULL ORDER BY d.id DESC""",
                [moderator, to_db_time(since)])
        ]

    def undo_of(self, decision_id: int) -> int | None:
        """The decision that undoes `decision_id`, if one was recorded."""
        row = self.db.execute("SELECT id FROM decisions WHERE undoes = ? ORDER BY id DESC LIMIT 1",
                              [decision_id]).fetchone()
        return row[0] if row else None

    def decision_cluster(self, decision_id: int) -> str | None:
        """The cluster a decision was taken on, or None for an unknown decision."""
        row = self.db.execute("SELECT cluster_id FROM decisions WHERE id = ?", [decision_id]).fetchone()
        return row[0] if row else None

    def active_decision(self, cluster_id: str) -> DecisionView | None:
        """The decision that currently holds a cluster (see `claim_decision`), or None if it is open."""
        rows = list(self.db.query(
            """SELECT * FROM decisions WHERE cluster_id = ? AND action IN (SELECT value FROM json_each(?))
               AND status IN (SELECT value FROM json_each(?)) AND late_batch IS NULL""",
            [cluster_id, json_list(PRIMARY_ACTIONS), json_list(ACTIVE_STATUSES)],
        ))
        return self._decision_view(rows[0]) if rows else None

    # -- the platform actions of a decision ---------------------------------------------------

    def unsettled_accounts(self, decision_id: int, accounts: Sequence[str]) -> list[str]:
        """Those of `accounts` whose action in this decision has no recorded outcome (never tried, or cut short)."""
        settled = {row[0] for row in self.db.execute(
            "SELECT account_id FROM actions WHERE decision_id = ? AND status IN (?, ?)",
            [decision_id, AttemptStatus.OK, AttemptStatus.FAILED],
        )}
        return [account for account in accounts if account not in settled]

    def succeeded_accounts(self, decision_id: int) -> list[str]:
        """Accounts a decision's platform actions succeeded on (what Undo has to reverse)."""
        return [row[0] for row in self.db.execute(
            "SELECT account_id FROM actions WHERE decision_id = ? AND status = ? ORDER BY account_id",
            [decision_id, AttemptStatus.OK],
        )]

    def claim_action(self, key: str, decision_id: int, account_id: str, action: Action) -> AttemptStatus | None:
        """Mark an action as under way, unless it already succeeded; returns how the earlier attempt stands.

        None: there was none. `OK`: it succeeded, nothing was claimed, and it must not be repeated.
        `FAILED`, or `PENDING` (cut short: the platform may or may not have carried it out): claimed again.
        """
        with self.atomic():
            row = self.db.execute("SELECT status FROM actions WHERE idempotency_key = ?", [key]).fetchone()
            earlier = AttemptStatus(row[0]) if row else None
            if earlier is AttemptStatus.OK:
                return earlier
            self.db.execute(
                """INSERT INTO actions (idempotency_key, decision_id, account_id, action, status, detail, attempts,
                   updated_at) VALUES (?, ?, ?, ?, ?, '', 1, ?)
                   ON CONFLICT(idempotency_key) DO UPDATE SET status = excluded.status, attempts = attempts + 1,
                   updated_at = excluded.updated_at""",
                [key, decision_id, account_id, action, AttemptStatus.PENDING, self.now()],
            )
        return earlier

    def finish_action(self, key: str, ok: bool, detail: str, actor: str = "chorus") -> None:
        """Record how a platform call went, in the actions table and the audit log together."""
        with self.atomic():
            self.db["actions"].update(key, {"status": AttemptStatus.OK if ok else AttemptStatus.FAILED,
                                            "detail": detail, "updated_at": self.now()})
            row = self.db["actions"].get(key)
            self.audit("action_ok" if ok else "action_failed", actor, decision_id=row["decision_id"],
                       account_id=row["account_id"], action=row["action"], detail=detail)
