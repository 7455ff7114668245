"""Claims and the queue they sit on: who has taken each waiting cluster, and the waiting clusters themselves
as App Home lists them. The claim history (who took it from whom) is in the audit log."""

from __future__ import annotations

from domain.decisions import WAITING, ClusterStatus
from domain.queue import QueueItem
from domain.views import ClaimView
from storage.database import Database, from_db_time, json_list


class Claims(Database):
    """One holder per claimed cluster; a claim changes hands only from the holder the claimant saw."""

    def claim_of(self, cluster_id: str) -> ClaimView | None:
        """Who holds the cluster, or None."""
        row = self.db.execute("SELECT moderator, claimed_at FROM claims WHERE cluster_id = ?", [cluster_id]).fetchone()
        return ClaimView(row[0], from_db_time(row[1])) if row else None

    def swap_claim(self, cluster_id: str, expected: str | None, moderator: str) -> bool:
        """Give the cluster to `moderator` if `expected` holds it now (None: nobody); False if someone else does.

        One conditional statement, so of two moderators claiming at once exactly one wins.
        """
        with self.atomic():
            if expected is None:
                changed = self.db.execute(
                    "INSERT INTO claims (cluster_id, moderator, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [cluster_id, moderator, self.now()])
            else:
                changed = self.db.execute(
                    "UPDATE claims SET moderator = ?, claimed_at = ? WHERE cluster_id = ? AND moderator = ?",
                    [moderator, self.now(), cluster_id, expected])
            return changed.rowcount == 1

    def queue(self) -> list[QueueItem]:
        """Clusters waiting for moderators, oldest first, with their platform and claim."""
        return [
            QueueItem(row["id"], row["score"], row["account_count"], from_db_time(row["flagged_at"]),
                      ClusterStatus(row["status"]), row["platform"] or "unknown", row["channel"], row["message_ts"],
                      ClaimView(row["moderator"], from_db_time(row["claimed_at"])) if row["moderator"] else None)
            for row in self.db.query(
                """SELECT c.id, c.score, c.account_count, c.flagged_at, c.status, c.channel, c.message_ts,
                          k.moderator, k.claimed_at,
                          (SELECT p.source FROM cluster_members m JOIN posts p ON p.id = m.post_id
                           WHERE m.cluster_id = c.id LIMIT 1) AS platform
                   FROM clusters c LEFT JOIN claims k ON k.cluster_id = c.id
                   WHERE c.status IN (SELECT value FROM json_each(?)) ORDER BY c.flagged_at, c.id""",
                [json_list(WAITING)])
        ]

    def queue_fingerprint(self) -> tuple:
        """Changes whenever what the queue shows may have: a cheap check before re-rendering every Home."""
        return tuple(self.db.execute(
            "SELECT count(*), coalesce(sum(card_version), 0), max(updated_at), "
            "(SELECT count(*) FROM claims), (SELECT max(claimed_at) FROM claims) FROM clusters").fetchone())
