"""The repository: intention-revealing reads and writes over the Chorus database.

Every method that changes more than one row does so in one transaction, so a crash leaves
either all of a step or none of it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from math import ceil
from pathlib import Path
from statistics import median
from typing import Any

import orjson
import sqlite_utils

from domain.models import Cluster, Post
from domain.records import parse_post, post_to_record
from domain.views import AccountView, ClusterChange, ClusterView, DecisionView, Digest, PendingCluster
from storage.schema import ACTIVE_STATUSES, PRIMARY_ACTIONS, SchemaTooNew, migrate

CLUSTER_STATUS_AFTER = {"suspend": "suspended", "require_verification": "verification", "dismiss": "dismissed"}
"""The status a cluster takes once a decision of each kind holds it."""


class StorageError(RuntimeError):
    """The database cannot be opened or written; the message says which file and why."""


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text, so timestamps sort and compare as strings in SQL."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str | None) -> datetime | None:
    """The inverse of `to_db_time`."""
    return None if value is None else datetime.fromisoformat(value)


def _json_list(values: Sequence[Any]) -> str:
    """A list bound as one JSON parameter, for `IN (SELECT value FROM json_each(?))`."""
    return orjson.dumps(list(values)).decode()


def utcnow() -> datetime:
    return datetime.now(UTC)


def _retry_while_locked(step: Callable[[], object], seconds: float = 30.0) -> None:
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


class Store:
    """The Chorus database. Open with `Store.open(path)`; tests pass a clock they control."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utcnow, lock_timeout: float = 30.0) -> None:
        self.path = path
        self.clock = clock
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._open: weakref.WeakSet[sqlite_utils.Database] = weakref.WeakSet()
        self._lock = threading.Lock()

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
            _retry_while_locked(store.db.enable_wal)
            migrate(store.db)
        except (sqlite3.DatabaseError, SchemaTooNew) as error:
            store.close()
            raise StorageError(f"cannot open database {path}: {error}") from None
        return store

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

    # -- posts, accounts, cursors -------------------------------------------------------------

    def cursor(self, source: str) -> str | None:
        """Where `source` stopped; None before its first batch."""
        row = self.db.execute("SELECT cursor FROM cursors WHERE source = ?", [source]).fetchone()
        return row[0] if row else None

    def ingest(self, source: str, posts: Sequence[Post], next_cursor: str | None, skipped: int = 0) -> int:
        """Store a batch and advance the source's cursor in one transaction; return how many posts were new.

        Posts already stored are left as they are, so fetching the same batch twice changes nothing.
        """
        now = self.now()
        with self.atomic():
            before = self.db.execute("SELECT count(*) FROM posts").fetchone()[0]
            self.db["posts"].insert_all(
                (
                    {"id": p.id, "source": source, "created_at": to_db_time(p.created_at),
                     "author_id": p.author.id, "text": p.text,
                     "record": orjson.dumps(post_to_record(p)).decode(), "ingested_at": now}
                    for p in posts
                ),
                pk="id", ignore=True, batch_size=500,
            )
            new = self.db.execute("SELECT count(*) FROM posts").fetchone()[0] - before
            self._upsert_accounts(posts)
            self.db.execute(
                """INSERT INTO cursors (source, cursor, updated_at, posts_total, skipped_total)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT(source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at,
                     posts_total = posts_total + excluded.posts_total,
                     skipped_total = skipped_total + excluded.skipped_total""",
                [source, next_cursor, now, new, skipped],
            )
        return new

    def _upsert_accounts(self, posts: Sequence[Post]) -> None:
        latest: dict[str, Post] = {}
        for post in posts:
            seen = latest.get(post.author.id)
            if seen is None or post.created_at >= seen.created_at:
                latest[post.author.id] = post
        first_seen = dict(self.db.execute(
            "SELECT id, first_seen FROM accounts WHERE id IN (SELECT value FROM json_each(?))",
            [orjson.dumps(list(latest)).decode()],
        ).fetchall())
        rows = []
        for account_id, post in latest.items():
            author = post.author
            seen_at = to_db_time(post.created_at)
            rows.append({
                "id": author.id, "handle": author.handle, "display_name": author.display_name,
                "created_at": to_db_time(author.created_at) if author.created_at else None,
                "posts_count": author.posts_count, "followers_count": author.followers_count,
                "following_count": author.following_count,
                "default_avatar": None if author.default_avatar is None else int(author.default_avatar),
                "url": author.url, "first_seen": min(first_seen.get(account_id) or seen_at, seen_at),
                "last_seen": seen_at,
            })
        self.db["accounts"].upsert_all(rows, pk="id", batch_size=500)

    def posts_since(self, since: datetime) -> list[Post]:
        """Posts created at or after `since`, oldest first: the detection window after a restart."""
        rows = self.db.execute(
            "SELECT record FROM posts WHERE created_at >= ? ORDER BY created_at", [to_db_time(since)]
        )
        return [parse_post(orjson.loads(record)) for (record,) in rows]

    def newest_post_time(self) -> datetime | None:
        """Creation time of the newest stored post."""
        return from_db_time(self.db.execute("SELECT max(created_at) FROM posts").fetchone()[0])

    def count(self, table: str) -> int:
        """Rows in one of the Chorus tables."""
        return self.db[table].count

    # -- clusters -----------------------------------------------------------------------------

    def _match_cluster(self, cluster: Cluster) -> str | None:
        """The stored cluster a detected one continues: same key, else the one sharing most posts."""
        cluster_id = cluster.id
        if self.db.execute("SELECT 1 FROM clusters WHERE id = ?", [cluster_id]).fetchone():
            return cluster_id
        row = self.db.execute(
            """SELECT cluster_id FROM cluster_members WHERE post_id IN (SELECT value FROM json_each(?))
               GROUP BY cluster_id ORDER BY count(*) DESC, cluster_id LIMIT 1""",
            [orjson.dumps(cluster.posts).decode()],
        ).fetchone()
        return row[0] if row else None

    def sync_clusters(self, clusters: Iterable[Cluster]) -> int:
        """Record detected clusters: new ones are inserted, known ones gain their new members.

        The clusters' posts must be stored already. Returns how many clusters were created or
        grew; `unnotified` then lists what the notifier still has to say.
        """
        changed = 0
        now = self.now()
        with self.atomic():
            for cluster in clusters:
                cluster_id = self._match_cluster(cluster)
                fields = {
                    "score": cluster.score, "updated_at": now, "last_seen": to_db_time(cluster.last_seen),
                    "sample_text": cluster.sample_text, "reasons": orjson.dumps(cluster.reasons).decode(),
                    "signals": orjson.dumps(cluster.signals).decode(), "media": orjson.dumps(cluster.media).decode(),
                    "distinct_texts": cluster.distinct_texts,
                }
                if cluster_id is None:
                    cluster_id = cluster.id
                    self.db["clusters"].insert({
                        "id": cluster_id, "key": cluster.key, "status": "open", "flagged_at": now,
                        "first_seen": to_db_time(cluster.first_seen), "notified_accounts": 0,
                        "account_count": 0, "post_count": 0, **fields,
                    })
                    self.audit("cluster_flagged", "chorus", cluster_id=cluster_id,
                               accounts=len(cluster.accounts), score=cluster.score)
                before = self.db.execute(
                    "SELECT count(*) FROM cluster_members WHERE cluster_id = ?", [cluster_id]
                ).fetchone()[0]
                self.db.execute(
                    """INSERT OR IGNORE INTO cluster_members (cluster_id, post_id, account_id, notified)
                       SELECT ?, id, author_id, 0 FROM posts WHERE id IN (SELECT value FROM json_each(?))""",
                    [cluster_id, orjson.dumps(cluster.posts).decode()],
                )
                accounts, members = self.db.execute(
                    "SELECT count(DISTINCT account_id), count(*) FROM cluster_members WHERE cluster_id = ?",
                    [cluster_id],
                ).fetchone()
                if members == before:
                    continue
                changed += 1
                self.db["clusters"].update(cluster_id, {**fields, "account_count": accounts, "post_count": members})
        return changed

    def unnotified(self) -> list[ClusterChange]:
        """Clusters whose newest members no notification has covered yet: the notifier's outbox."""
        changes = []
        for cluster_id, message_ts, announcing_since in self.db.execute(
            "SELECT id, message_ts, announcing_since FROM clusters WHERE id IN "
            "(SELECT DISTINCT cluster_id FROM cluster_members WHERE notified = 0) ORDER BY flagged_at, id"
        ).fetchall():
            added_accounts = [row[0] for row in self.db.execute(
                """SELECT DISTINCT account_id FROM cluster_members WHERE cluster_id = ? AND notified = 0
                   AND account_id NOT IN (SELECT account_id FROM cluster_members WHERE cluster_id = ? AND notified = 1)
                   ORDER BY account_id""", [cluster_id, cluster_id],
            )]
            added_posts = self.db.execute(
                "SELECT count(*) FROM cluster_members WHERE cluster_id = ? AND notified = 0", [cluster_id]
            ).fetchone()[0]
            first = message_ts is None and not self.db.execute(
                "SELECT 1 FROM cluster_members WHERE cluster_id = ? AND notified = 1 LIMIT 1", [cluster_id]
            ).fetchone()
            changes.append(ClusterChange(cluster_id, "new" if first else "grown", added_accounts, added_posts,
                                         from_db_time(announcing_since)))
        return changes

    def begin_announcement(self, cluster_id: str) -> None:
        """Note that announcing the cluster's change to Slack has begun (kept from the first attempt).

        If the process dies before `mark_notified`, the next attempt knows the card or reply may
        already be in the channel and looks for it before posting again.
        """
        with self.atomic():
            self.db.execute("UPDATE clusters SET announcing_since = coalesce(announcing_since, ?) WHERE id = ?",
                            [self.now(), cluster_id])

    def mark_notified(self, cluster_id: str, channel: str | None = None, message_ts: str | None = None,
                      shown_version: int | None = None) -> None:
        """Record that the cluster's current members were announced (where the card lives, which version it shows)."""
        with self.atomic():
            self.db.execute("UPDATE cluster_members SET notified = 1 WHERE cluster_id = ?", [cluster_id])
            accounts = self.db.execute(
                "SELECT count(DISTINCT account_id) FROM cluster_members WHERE cluster_id = ?", [cluster_id]
            ).fetchone()[0]
            update: dict[str, Any] = {"notified_accounts": accounts, "announcing_since": None}
            if message_ts is not None:
                update |= {"channel": channel, "message_ts": message_ts}
            self.db["clusters"].update(cluster_id, update)
            if shown_version is not None:
                self.mark_card_shown(cluster_id, shown_version)

    def mark_card_shown(self, cluster_id: str, version: int) -> None:
        """Record that Slack shows the card as of `version` (a later change keeps it stale)."""
        with self.atomic():
            self.db.execute("UPDATE clusters SET card_shown_version = max(card_shown_version, ?) WHERE id = ?",
                            [version, cluster_id])

    def stale_cards(self) -> list[str]:
        """Clusters whose posted card shows an older state than storage holds (an update was lost or failed)."""
        return [row[0] for row in self.db.execute(
            "SELECT id FROM clusters WHERE message_ts IS NOT NULL AND card_shown_version < card_version "
            "ORDER BY updated_at, id"
        )]

    def cluster_view(self, cluster_id: str) -> ClusterView | None:
        """The card model of one cluster, or None if there is no such cluster."""
        rows = list(self.db.query("SELECT * FROM clusters WHERE id = ?", [cluster_id]))
        if not rows:
            return None
        row = rows[0]
        accounts = [
            AccountView(
                id=account["id"], handle=account["handle"] or account["id"], url=account["url"],
                created_at=from_db_time(account["created_at"]),
                age_days_at_post=(
                    (from_db_time(account["first_post"]) - from_db_time(account["created_at"])).total_seconds() / 86400
                    if account["created_at"] else None
                ),
            )
            for account in self.db.query(
                """SELECT a.*, min(p.created_at) AS first_post FROM cluster_members m
                   JOIN accounts a ON a.id = m.account_id JOIN posts p ON p.id = m.post_id
                   WHERE m.cluster_id = ? GROUP BY a.id ORDER BY first_post, a.id""", [cluster_id],
            )
        ]
        samples = [text for (text,) in self.db.execute(
            """SELECT p.text FROM cluster_members m JOIN posts p ON p.id = m.post_id
               WHERE m.cluster_id = ? GROUP BY p.text ORDER BY count(*) DESC, min(p.created_at) LIMIT 3""",
            [cluster_id],
        )]
        return ClusterView(
            id=row["id"], score=row["score"], status=row["status"], accounts=accounts,
            post_count=row["post_count"], distinct_texts=row["distinct_texts"],
            sample_texts=samples or [row["sample_text"]],
            first_seen=from_db_time(row["first_seen"]), last_seen=from_db_time(row["last_seen"]),
            flagged_at=from_db_time(row["flagged_at"]), reasons=orjson.loads(row["reasons"]),
            media=orjson.loads(row["media"]), decisions=self.decisions_for(cluster_id),
            channel=row["channel"], message_ts=row["message_ts"], card_version=row["card_version"],
        )

    def clusters_by_status(self, status: str) -> list[str]:
        """Ids of clusters in a status (e.g. 'open': waiting for a moderator), oldest first."""
        return [row[0] for row in self.db.execute(
            "SELECT id FROM clusters WHERE status = ? ORDER BY flagged_at, id", [status]
        )]

    def set_cluster_status(self, cluster_id: str, status: str) -> None:
        """Move a cluster to a new status (open, suspended, verification, dismissed, ...)."""
        with self.atomic():
            self.db["clusters"].update(cluster_id, {"status": status, "updated_at": self.now()})

    # -- decisions, actions, audit ------------------------------------------------------------

    def record_decision(
        self, cluster_id: str, action: str, accounts: Sequence[str], moderator: str,
        reason: str = "", policy: str = "", status: str = "approved", undoes: int | None = None,
    ) -> int:
        """Record a moderator's decision (or the undo of decision `undoes`) and audit it; returns its id."""
        with self.atomic():
            decision_id = self.db["decisions"].insert({
                "cluster_id": cluster_id, "action": action, "accounts": orjson.dumps(list(accounts)).decode(),
                "moderator": moderator, "reason": reason, "policy": policy, "status": status,
                "created_at": self.now(), "undoes": undoes,
            }).last_pk
            self.audit("decision_recorded", moderator, cluster_id=cluster_id, decision_id=decision_id,
                       action=action, accounts=len(accounts), reason=reason, policy=policy, status=status,
                       undoes=undoes)
        return int(decision_id)

    def set_decision_status(self, decision_id: int, status: str, actor: str = "chorus") -> None:
        """Advance a decision (approved -> executing -> done) and audit the move."""
        with self.atomic():
            update = {"status": status}
            if status in {"done", "failed"}:
                update["finished_at"] = self.now()
            self.db["decisions"].update(decision_id, update)
            self.audit("decision_" + status, actor, decision_id=decision_id)

    def _decision_view(self, row: dict[str, Any]) -> DecisionView:
        failures = dict(self.db.execute(
            "SELECT account_id, detail FROM actions WHERE decision_id = ? AND status = 'failed' ORDER BY account_id",
            [row["id"]],
        ).fetchall())
        return DecisionView(
            id=row["id"], action=row["action"], moderator=row["moderator"], status=row["status"],
            created_at=from_db_time(row["created_at"]), accounts=orjson.loads(row["accounts"]),
            reason=row["reason"] or "", policy=row["policy"] or "", approved_by=row["approved_by"] or "",
            finished_at=from_db_time(row["finished_at"]), failures=failures,
        )

    def decisions_for(self, cluster_id: str) -> list[DecisionView]:
        """Decisions on a cluster, oldest first."""
        return [self._decision_view(row)
                for row in self.db.query("SELECT * FROM decisions WHERE cluster_id = ? ORDER BY id", [cluster_id])]

    def decision(self, decision_id: int) -> DecisionView | None:
        """One decision, or None."""
        rows = list(self.db.query("SELECT * FROM decisions WHERE id = ?", [decision_id]))
        return self._decision_view(rows[0]) if rows else None

    def decisions_in_status(self, statuses: Sequence[str]) -> list[DecisionView]:
        """Decisions in any of `statuses`, oldest first (after a crash: the ones left half done)."""
        return [self._decision_view(row) for row in self.db.query(
            "SELECT * FROM decisions WHERE status IN (SELECT value FROM json_each(?)) ORDER BY id",
            [_json_list(statuses)],
        )]

    def undo_of(self, decision_id: int) -> int | None:
        """The decision that undoes `decision_id`, if one was recorded."""
        row = self.db.execute("SELECT id FROM decisions WHERE undoes = ? ORDER BY id DESC LIMIT 1",
                              [decision_id]).fetchone()
        return row[0] if row else None

    def unsettled_accounts(self, decision_id: int, accounts: Sequence[str]) -> list[str]:
        """Those of `accounts` whose action in this decision has no recorded outcome (never tried, or cut short)."""
        settled = {row[0] for row in self.db.execute(
            "SELECT account_id FROM actions WHERE decision_id = ? AND status IN ('ok', 'failed')", [decision_id]
        )}
        return [account for account in accounts if account not in settled]

    def decision_cluster(self, decision_id: int) -> str | None:
        """The cluster a decision was taken on, or None for an unknown decision."""
        row = self.db.execute("SELECT cluster_id FROM decisions WHERE id = ?", [decision_id]).fetchone()
        return row[0] if row else None

    def active_decision(self, cluster_id: str) -> DecisionView | None:
        """The decision that currently holds a cluster (see `claim_decision`), or None if it is open."""
        rows = list(self.db.query(
            """SELECT * FROM decisions WHERE cluster_id = ? AND action IN (SELECT value FROM json_each(?))
               AND status IN (SELECT value FROM json_each(?))""",
            [cluster_id, _json_list(PRIMARY_ACTIONS), _json_list(ACTIVE_STATUSES)],
        ))
        return self._decision_view(rows[0]) if rows else None

    def claim_decision(
        self, cluster_id: str, action: str, accounts: Sequence[str], moderator: str,
        reason: str = "", policy: str = "", status: str = "approved",
    ) -> int | None:
        """Record a decision only if the cluster has no live one; None if another decision got there first.

        The unique partial index `decisions_one_active` makes the check and the insert one atomic
        step, so two concurrent clicks (even through separate connections) cannot both win.
        """
        try:
            decision_id = self.record_decision(cluster_id, action, accounts, moderator, reason, policy, status)
        except sqlite3.IntegrityError:
            self.audit("decision_refused", moderator, cluster_id=cluster_id, action=action,
                       why="the cluster already has a decision")
            return None
        self.set_cluster_status(cluster_id, CLUSTER_STATUS_AFTER.get(action, "open")
                                if status != "awaiting_approval" else "awaiting_approval")
        return decision_id

    def _move_decision(self, decision_id: int, actor: str, to_status: str, from_statuses: Sequence[str],
                       approved_by: str | None = None, finished: bool = False) -> bool:
        """Move a decision between statuses in one conditional UPDATE; False if it was not in `from_statuses`.

        With `approved_by`, the move also fails when that moderator is the one who asked.
        """
        with self.atomic():
            moved = self.db.execute(
                """UPDATE decisions SET status = ?, approved_by = coalesce(?, approved_by),
                   finished_at = CASE WHEN ? THEN ? ELSE finished_at END
                   WHERE id = ? AND status IN (SELECT value FROM json_each(?)) AND (? IS NULL OR moderator != ?)""",
                [to_status, approved_by, finished, self.now(), decision_id, _json_list(from_statuses),
                 approved_by, approved_by],
            ).rowcount == 1
            if moved:
                self.audit("decision_" + to_status, actor, cluster_id=self.decision_cluster(decision_id),
                           decision_id=decision_id)
        return moved

    def approve_decision(self, decision_id: int, approver: str) -> bool:
        """Second-moderator approval; False if already approved or cancelled, or `approver` asked for it."""
        approved = self._move_decision(decision_id, approver, "approved", ["awaiting_approval"], approved_by=approver)
        decision = self.decision(decision_id)
        if approved and decision:
            self.set_cluster_status(self.decision_cluster(decision_id) or "",
                                    CLUSTER_STATUS_AFTER.get(decision.action, "open"))
        return approved

    def cancel_decision(self, decision_id: int, actor: str) -> bool:
        """Withdraw a decision still waiting for approval, reopening its cluster; False if it moved on."""
        cancelled = self._move_decision(decision_id, actor, "cancelled", ["awaiting_approval"])
        if cancelled:
            self.set_cluster_status(self.decision_cluster(decision_id) or "", "open")
        return cancelled

    def claim_retry(self, decision_id: int, actor: str) -> bool:
        """Start retrying a decision's failed actions; False if it has no failures or a retry is under way."""
        return self._move_decision(decision_id, actor, "executing", ["failed"])

    def claim_undo(self, decision_id: int, actor: str) -> bool:
        """Start undoing a carried-out decision; False if it is not carried out or someone else is undoing it."""
        return self._move_decision(decision_id, actor, "undoing", ["done", "failed"])

    def finish_undo(self, decision_id: int, actor: str) -> None:
        """Mark an undone decision as such and reopen its cluster for a fresh decision."""
        self._move_decision(decision_id, actor, "undone", ["undoing"], finished=True)
        self.set_cluster_status(self.decision_cluster(decision_id) or "", "open")

    def succeeded_accounts(self, decision_id: int) -> list[str]:
        """Accounts a decision's platform actions succeeded on (what Undo has to reverse)."""
        return [row[0] for row in self.db.execute(
            "SELECT account_id FROM actions WHERE decision_id = ? AND status = 'ok' ORDER BY account_id",
            [decision_id],
        )]

    def claim_action(self, key: str, decision_id: int, account_id: str, action: str) -> str | None:
        """Mark an action as under way; None if it already succeeded, so it is never repeated.

        Otherwise returns how the earlier attempt ended: "new" (there was none), "failed", or
        "pending" (cut short: the platform may or may not have carried it out).
        """
        with self.atomic():
            row = self.db.execute("SELECT status FROM actions WHERE idempotency_key = ?", [key]).fetchone()
            if row and row[0] == "ok":
                return None
            self.db.execute(
                """INSERT INTO actions (idempotency_key, decision_id, account_id, action, status, detail, attempts,
                   updated_at) VALUES (?, ?, ?, ?, 'pending', '', 1, ?)
                   ON CONFLICT(idempotency_key) DO UPDATE SET status = 'pending', attempts = attempts + 1,
                   updated_at = excluded.updated_at""",
                [key, decision_id, account_id, action, self.now()],
            )
        return row[0] if row else "new"

    def finish_action(self, key: str, ok: bool, detail: str, actor: str = "chorus") -> None:
        """Record how a platform call went, in the actions table and the audit log together."""
        with self.atomic():
            self.db["actions"].update(key, {"status": "ok" if ok else "failed", "detail": detail,
                                            "updated_at": self.now()})
            row = self.db["actions"].get(key)
            self.audit("action_ok" if ok else "action_failed", actor, decision_id=row["decision_id"],
                       account_id=row["account_id"], action=row["action"], detail=detail)

    def actions_in_status(self, status: str) -> list[dict[str, Any]]:
        """Platform actions in a status ('pending' after a crash, 'failed' for the retry button)."""
        return list(self.db.query("SELECT * FROM actions WHERE status = ? ORDER BY updated_at", [status]))

    def first_sighting(self, signature: str, expires: float, now: float) -> bool:
        """Record a signed request's signature until `expires` (epoch seconds); False when it was seen before.

        Signatures past their expiry are forgotten on the way, so the table holds minutes of requests.
        """
        with self.atomic():
            self.db.execute("DELETE FROM seen_requests WHERE expires < ?", [now])
            inserted = self.db.execute("INSERT OR IGNORE INTO seen_requests (signature, expires) VALUES (?, ?)",
                                       [signature, expires])
            return inserted.rowcount == 1

    def audit(self, event: str, actor: str, cluster_id: str | None = None, decision_id: int | None = None,
              account_id: str | None = None, **detail: Any) -> None:
        """Append one entry to the audit log (the table refuses updates and deletes)."""
        with self.atomic():
            self.db["audit_log"].insert({
                "at": self.now(), "actor": actor, "event": event, "cluster_id": cluster_id,
                "decision_id": decision_id, "account_id": account_id,
                "detail": orjson.dumps(detail, default=str).decode(),
            })

    def audit_entries(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Audit log entries, oldest first."""
        start = to_db_time(since) if since else ""
        return list(self.db.query("SELECT * FROM audit_log WHERE at >= ? ORDER BY id", [start]))

    # -- lookups for moderators ------------------------------------------------------------------

    def find_account(self, ref: str) -> dict[str, Any] | None:
        """An account by id or by handle (with or without '@', any case), or None."""
        ref = ref.strip()
        rows = list(self.db.query(
            "SELECT * FROM accounts WHERE id = ? OR handle = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1",
            [ref, ref.removeprefix("@"), ref],
        ))
        return rows[0] if rows else None

    def account_clusters(self, account_id: str) -> list[dict[str, Any]]:
        """The clusters an account belongs to, newest first."""
        return list(self.db.query(
            """SELECT id, status, account_count, post_count, flagged_at, sample_text FROM clusters
               WHERE id IN (SELECT cluster_id FROM cluster_members WHERE account_id = ?)
               ORDER BY flagged_at DESC, id""", [account_id],
        ))

    def account_decisions(self, account_id: str) -> list[DecisionView]:
        """Decisions that named an account, oldest first."""
        return [self._decision_view(row) for row in self.db.query(
            "SELECT * FROM decisions WHERE EXISTS (SELECT 1 FROM json_each(decisions.accounts) WHERE value = ?) "
            "ORDER BY id", [account_id],
        )]

    def account_posts(self, account_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """An account's most recent posts."""
        return list(self.db.query(
            "SELECT id, created_at, text FROM posts WHERE author_id = ? ORDER BY created_at DESC LIMIT ?",
            [account_id, limit],
        ))

    def search_posts(self, text: str, limit: int = 10) -> list[dict[str, Any]]:
        """Recent posts matching `text` by full-text search, each with its author's handle and its clusters.

        The query is quoted, so FTS syntax in what a moderator types is searched for, not interpreted;
        control and format characters (a NUL ends FTS's string early) are dropped first.
        """
        text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
        if not text:
            return []
        posts = list(self.db["posts"].search(text, columns=["id", "created_at", "author_id", "text"],
                                             order_by="created_at desc", limit=limit, quote=True))
        for post in posts:
            post["handle"] = (self.db.execute("SELECT handle FROM accounts WHERE id = ?", [post["author_id"]])
                              .fetchone() or [post["author_id"]])[0]
            post["clusters"] = [row[0] for row in self.db.execute(
                "SELECT cluster_id FROM cluster_members WHERE post_id = ? ORDER BY cluster_id", [post["id"]]
            )]
        return posts


    # -- reporting and housekeeping -----------------------------------------------------------

    def start_digest(self, kind: str, period_end: datetime) -> bool:
        """Record that the digest of a period is being posted; False if it was posted already (never twice).

        An attempt that failed or was cut short leaves the digest unposted, so it is tried again.
        """
        with self.atomic():
            if self.digest_posted(kind, period_end):
                return False
            self.db["digests"].insert({"kind": kind, "period_end": to_db_time(period_end), "started_at": self.now()},
                                      pk=("kind", "period_end"), ignore=True)
            return True

    def finish_digest(self, kind: str, period_end: datetime) -> None:
        """Record that the digest of a period reached the channel."""
        with self.atomic():
            self.db.execute("UPDATE digests SET posted_at = ? WHERE kind = ? AND period_end = ?",
                            [self.now(), kind, to_db_time(period_end)])

    def digest_posted(self, kind: str, period_end: datetime) -> bool:
        """Whether the digest of this period was posted."""
        return bool(self.db.execute("SELECT 1 FROM digests WHERE kind = ? AND period_end = ? AND posted_at IS NOT NULL",
                                    [kind, to_db_time(period_end)]).fetchone())

    def purge_posts(self, before: datetime) -> int:
        """Delete posts created before `before` that no cluster holds, and accounts left with nothing.

        Clusters, their posts, decisions and the audit log are kept. Returns the posts deleted.
        """
        cutoff = to_db_time(before)
        with self.atomic():
            deleted = self.db.execute(
                "DELETE FROM posts WHERE created_at < ? AND id NOT IN (SELECT post_id FROM cluster_members)", [cutoff]
            ).rowcount
            self.db.execute(
                """DELETE FROM accounts WHERE last_seen < ? AND id NOT IN (SELECT author_id FROM posts)
                   AND id NOT IN (SELECT account_id FROM cluster_members)""", [cutoff],
            )
        return deleted

    def compact(self, free_fraction: float = 0.25) -> bool:
        """Let SQLite refresh its statistics, and VACUUM when a quarter or more of the file is free pages."""
        self.db.execute("PRAGMA optimize")
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        if pages and free / pages >= free_fraction:
            self.db.execute("VACUUM")
            return True
        return False

    def _flagged_between(self, since: datetime, until: datetime) -> tuple[int, int, int]:
        return tuple(self.db.execute(
            """SELECT count(*), coalesce(sum(account_count), 0), coalesce(sum(post_count), 0) FROM clusters
               WHERE flagged_at >= ? AND flagged_at < ?""", [to_db_time(since), to_db_time(until)],
        ).fetchone())

    def digest(self, since: datetime, until: datetime) -> Digest:
        """Summarise clusters flagged and decisions taken in [since, until), what still waits, and the trend."""
        window = [to_db_time(since), to_db_time(until)]
        flagged, accounts, posts = self._flagged_between(since, until)
        previous_clusters, previous_accounts, _ = self._flagged_between(since - (until - since), since)
        by_action = dict(self.db.execute(
            "SELECT action, count(*) FROM decisions WHERE created_at >= ? AND created_at < ? GROUP BY action "
            "ORDER BY count(*) DESC, action", window,
        ).fetchall())
        by_moderator = dict(self.db.execute(
            "SELECT moderator, count(*) FROM decisions WHERE created_at >= ? AND created_at < ? GROUP BY moderator "
            "ORDER BY count(*) DESC, moderator", window,
        ).fetchall())
        pending = [
            PendingCluster(row["id"], row["account_count"], from_db_time(row["flagged_at"]), row["channel"],
                           row["message_ts"])
            for row in self.db.query(
                "SELECT id, account_count, flagged_at, channel, message_ts FROM clusters "
                "WHERE status = 'open' AND flagged_at < ? ORDER BY flagged_at, id", [window[1]],
            )
        ]
        actions = dict(self.db.execute(
            """SELECT action || ':' || status, count(DISTINCT account_id) FROM actions
               WHERE updated_at >= ? AND updated_at < ? GROUP BY action, status""", window,
        ).fetchall())
        largest = [tuple(row) for row in self.db.execute(
            """SELECT id, account_count, sample_text FROM clusters WHERE flagged_at >= ? AND flagged_at < ?
               ORDER BY account_count DESC, id LIMIT 3""", window,
        )]
        minutes = [
            (from_db_time(decided) - from_db_time(flagged)).total_seconds() / 60
            for decided, flagged in self.db.execute(
                """SELECT min(d.created_at), c.flagged_at FROM decisions d JOIN clusters c ON c.id = d.cluster_id
                   WHERE d.created_at >= ? AND d.created_at < ? GROUP BY c.id""", window,
            )
        ]
        bucket_hours = 1 if until - since <= timedelta(hours=48) else 24
        buckets = max(1, ceil((until - since) / timedelta(hours=bucket_hours)))
        counts = [[0, 0] for _ in range(buckets)]
        for flagged_at, account_count in self.db.execute(
            "SELECT flagged_at, account_count FROM clusters WHERE flagged_at >= ? AND flagged_at < ?", window
        ):
            bucket = counts[min(buckets - 1, int((from_db_time(flagged_at) - since) / timedelta(hours=bucket_hours)))]
            bucket[0] += 1
            bucket[1] += account_count
        return Digest(
            since, until, flagged, accounts, posts, by_action, by_moderator, pending,
            failed_actions=sum(n for key, n in actions.items() if key.endswith(":failed")),
            largest=largest,
            accounts_suspended=actions.get("suspend:ok", 0),
            accounts_verification=actions.get("require_verification:ok", 0),
            decision_minutes_p50=median(minutes) if minutes else None,
            decision_minutes_p90=_percentile(minutes, 0.9),
            previous_clusters=previous_clusters, previous_accounts=previous_accounts,
            bucket_hours=bucket_hours,
            timeline=[(since + timedelta(hours=bucket_hours * i), c, a) for i, (c, a) in enumerate(counts)],
        )


def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, ceil(fraction * len(ordered)) - 1)]
