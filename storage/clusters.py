"""Clusters and their announcement outbox: detected clusters recorded and grown, the members no card
has announced yet, where each card lives and which version of the cluster it shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson

from domain.decisions import ClusterStatus
from domain.lookups import ClusterSummary
from domain.models import Cluster, Post
from domain.records import parse_post
from domain.views import (
    AccountView,
    BatchKind,
    BatchMember,
    ClusterChange,
    ClusterView,
    LateBatch,
    RemoteDomain,
    majority_domain,
)
from storage.claims import Claims
from storage.database import from_db_time, to_db_time
from storage.decisions import Decisions
from storage.findings import Findings
from storage.open_reports import OpenReportsStore


class Clusters(Decisions, Claims, OpenReportsStore, Findings):
    """Clusters, their members, and the outbox of members not yet announced; a card shows its decisions and
    claim too."""

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

    def sync_clusters(self, clusters: Iterable[Cluster], rescore: bool = False) -> int:
        """Record detected clusters: new ones are inserted, known ones gain their new members.

        The clusters' posts must be stored already. Returns how many clusters were created or
        grew; `unnotified` then lists what the notifier still has to say. With `rescore` (its
        accounts' facts were filled in), a known cluster whose score or reasons changed takes them,
        and its card is marked stale so it is shown again.
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
                        "id": cluster_id, "key": cluster.key, "status": ClusterStatus.OPEN, "flagged_at": now,
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
                    if rescore:
                        self._rescore(cluster_id, fields)
                    continue
                changed += 1
                self.db["clusters"].update(cluster_id, {**fields, "account_count": accounts, "post_count": members})
        return changed

    def _rescore(self, cluster_id: str, fields: dict[str, Any]) -> None:
        """Take a known cluster's new score and reasons; a change bumps its card version (the card is stale)."""
        row = self.db.execute("SELECT score, reasons FROM clusters WHERE id = ?", [cluster_id]).fetchone()
        if row is not None and (row[0], row[1]) != (fields["score"], fields["reasons"]):
            self.db["clusters"].update(cluster_id, fields)
            self.db.execute("UPDATE clusters SET card_version = card_version + 1 WHERE id = ?", [cluster_id])

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
            id=row["id"], score=row["score"], status=ClusterStatus(row["status"]), accounts=accounts,
            reports=self.cluster_open_reports(cluster_id), remote_domain=self._remote_domain(cluster_id, accounts),
            post_count=row["post_count"], distinct_texts=row["distinct_texts"],
            sample_texts=samples or [row["sample_text"]],
            first_seen=from_db_time(row["first_seen"]), last_seen=from_db_time(row["last_seen"]),
            flagged_at=from_db_time(row["flagged_at"]), reasons=orjson.loads(row["reasons"]),
            media=orjson.loads(row["media"]), decisions=self.decisions_for(cluster_id),
            channel=row["channel"], message_ts=row["message_ts"], card_version=row["card_version"],
            claim=self.claim_of(cluster_id),
        )

    def cluster_posts(self, cluster_id: str) -> list[Post]:
        """The posts a cluster holds, oldest first."""
        return [parse_post(orjson.loads(record)) for (record,) in self.db.execute(
            """SELECT p.record FROM cluster_members m JOIN posts p ON p.id = m.post_id WHERE m.cluster_id = ?
               ORDER BY p.created_at, p.id""", [cluster_id])]

    def cluster_accounts(self, cluster_id: str) -> set[str]:
        """The accounts a cluster holds."""
        return {row[0] for row in self.db.execute(
            "SELECT DISTINCT account_id FROM cluster_members WHERE cluster_id = ?", [cluster_id])}

    def _remote_domain(self, cluster_id: str, accounts: list[AccountView]) -> RemoteDomain | None:
        """The remote domain most of the cluster's accounts come from, with the local follows looked up there."""
        majority = majority_domain([a.handle for a in accounts])
        if majority is None:
            return None
        looked_up = self.domain_follows(cluster_id)
        follows = looked_up[1] if looked_up and looked_up[0] == majority[0] else None
        return RemoteDomain(majority[0], majority[1], len(accounts), follows)

    def record_late_batch(self, cluster_id: str, accounts: list[str], kind: BatchKind = BatchKind.LATE,
                          members: Mapping[str, BatchMember] | None = None) -> int:
        """Note accounts the cluster's decision does not cover (joined late, posted a known campaign's content,
        siblings); the same accounts again are the same batch. `members` names those the card does not list."""
        key = orjson.dumps(sorted(accounts)).decode()
        detail = orjson.dumps({a: asdict(m) for a, m in (members or {}).items()}).decode() if members else None
        with self.atomic():
            self.db.execute("INSERT OR IGNORE INTO late_batches (cluster_id, accounts, created_at, kind, detail) "
                            "VALUES (?, ?, ?, ?, ?)", [cluster_id, key, self.now(), kind, detail])
            return self.db.execute("SELECT id FROM late_batches WHERE cluster_id = ? AND accounts = ?",
                                   [cluster_id, key]).fetchone()[0]

    def late_batch(self, batch_id: int) -> LateBatch | None:
        """A batch of accounts outside the cluster's decision, or None."""
        row = self.db.execute("SELECT id, cluster_id, accounts, channel, message_ts, kind, detail, created_at "
                              "FROM late_batches WHERE id = ?", [batch_id]).fetchone()
        if row is None:
            return None
        members = {a: BatchMember(**m) for a, m in orjson.loads(row[6]).items()} if row[6] else {}
        return LateBatch(row[0], row[1], orjson.loads(row[2]), row[3], row[4], BatchKind(row[5]), members,
                         from_db_time(row[7]))

    def unannounced_batches(self) -> list[LateBatch]:
        """Batches of known-campaign posters and siblings whose thread reply is not posted yet, oldest first (late
        joiners are announced with the growth reply)."""
        return [b for b in (self.late_batch(row[0]) for row in self.db.execute(
            "SELECT id FROM late_batches WHERE kind != ? AND message_ts IS NULL ORDER BY id", [BatchKind.LATE]))
            if b is not None]

    def batched_accounts(self, cluster_id: str, kinds: Iterable[BatchKind] = tuple(BatchKind)) -> set[str]:
        """Every account that already has buttons of its own in the cluster's thread (in a batch of `kinds`)."""
        return {account for (accounts,) in self.db.execute(
            "SELECT accounts FROM late_batches WHERE cluster_id = ? AND kind IN (SELECT value FROM json_each(?))",
            [cluster_id, orjson.dumps(list(kinds)).decode()])
            for account in orjson.loads(accounts)}

    def late_batches_of(self, cluster_id: str) -> list[LateBatch]:
        """A cluster's batches of late accounts whose thread reply is known, oldest first."""
        return [b for b in (self.late_batch(row[0]) for row in self.db.execute(
            "SELECT id FROM late_batches WHERE cluster_id = ? AND message_ts IS NOT NULL ORDER BY id", [cluster_id]))
            if b is not None]

    def note_late_reply(self, batch_id: int, channel: str, message_ts: str) -> LateBatch | None:
        """Record which thread reply offers the batch's buttons (the first click tells), and return the batch."""
        with self.atomic():
            self.db.execute("UPDATE late_batches SET channel = ?, message_ts = ? WHERE id = ? AND message_ts IS NULL",
                            [channel, message_ts, batch_id])
        return self.late_batch(batch_id)

    def cluster_status(self, cluster_id: str) -> ClusterStatus | None:
        """Where a cluster stands, or None for an unknown one."""
        row = self.db.execute("SELECT status FROM clusters WHERE id = ?", [cluster_id]).fetchone()
        return ClusterStatus(row[0]) if row else None

    def clusters_by_status(self, status: ClusterStatus) -> list[str]:
        """Ids of clusters in a status (e.g. open: waiting for a moderator), oldest first."""
        return [row[0] for row in self.db.execute(
            "SELECT id FROM clusters WHERE status = ? ORDER BY flagged_at, id", [status]
        )]

    def set_cluster_status(self, cluster_id: str, status: ClusterStatus) -> None:
        """Move a cluster to the status its live decision gives it (see `domain.decisions.cluster_status`)."""
        with self.atomic():
            self.db["clusters"].update(cluster_id, {"status": status, "updated_at": self.now()})

    def account_clusters(self, account_id: str) -> list[ClusterSummary]:
        """The clusters an account belongs to, newest first."""
        return [
            ClusterSummary(cluster_id, ClusterStatus(status), account_count, post_count,
                           datetime.fromisoformat(flagged_at))
            for cluster_id, status, account_count, post_count, flagged_at in self.db.execute(
                """SELECT id, status, account_count, post_count, flagged_at FROM clusters
                   WHERE id IN (SELECT cluster_id FROM cluster_members WHERE account_id = ?)
                   ORDER BY flagged_at DESC, id""", [account_id],
            )
        ]
