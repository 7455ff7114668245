"""What was looked up on the platform about a flagged cluster beyond its posts: the local follows of the remote
domain most of its accounts come from, and whether its siblings were searched for (once per cluster)."""

from __future__ import annotations

from domain.decisions import WAITING
from storage.database import Database, json_list


class Findings(Database):
    """Per-cluster platform findings, each recorded once, bumping the card when it shows something new."""

    def clusters_waiting(self) -> list[str]:
        """Clusters that wait for moderators (their card posted or about to be), oldest first."""
        return [row[0] for row in self.db.execute(
            "SELECT id FROM clusters WHERE status IN (SELECT value FROM json_each(?)) ORDER BY flagged_at, id",
            [json_list(WAITING)])]

    def clusters_without_sibling_search(self) -> list[str]:
        """Clusters that wait for moderators and were not searched for siblings yet, oldest first."""
        return [row[0] for row in self.db.execute(
            """SELECT id FROM clusters WHERE status IN (SELECT value FROM json_each(?))
               AND id NOT IN (SELECT cluster_id FROM sibling_searches) ORDER BY flagged_at, id""",
            [json_list(WAITING)])]

    def record_sibling_search(self, cluster_id: str, found: int) -> None:
        """Note that the cluster's siblings were looked for (and how many found), so it is not asked again."""
        with self.atomic():
            self.db.execute("INSERT OR IGNORE INTO sibling_searches (cluster_id, searched_at, found) VALUES (?, ?, ?)",
                            [cluster_id, self.now(), found])

    def cluster_handles(self, cluster_id: str) -> list[str]:
        """The handles of a cluster's accounts (where a fediverse handle names the remote domain)."""
        return [row[0] or row[1] for row in self.db.execute(
            """SELECT a.handle, a.id FROM accounts a WHERE a.id IN
               (SELECT DISTINCT account_id FROM cluster_members WHERE cluster_id = ?)""", [cluster_id])]

    def domain_follows(self, cluster_id: str) -> tuple[str, int | None] | None:
        """The remote domain whose local follows were looked up for the cluster, and their number (None: unknown)."""
        row = self.db.execute("SELECT domain, local_follows FROM cluster_domains WHERE cluster_id = ?",
                              [cluster_id]).fetchone()
        return (row[0], row[1]) if row else None

    def record_domain_follows(self, cluster_id: str, domain: str, local_follows: int | None) -> None:
        """Record how many follows local accounts have of accounts on `domain`; the card shows it."""
        with self.atomic():
            self.db.execute(
                """INSERT INTO cluster_domains (cluster_id, domain, local_follows, checked_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT(cluster_id) DO UPDATE SET domain = excluded.domain,
                   local_follows = excluded.local_follows, checked_at = excluded.checked_at""",
                [cluster_id, domain, local_follows, self.now()])
            self.db.execute("UPDATE clusters SET card_version = card_version + 1 WHERE id = ?", [cluster_id])
