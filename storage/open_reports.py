"""The platform's unresolved reports about accounts, as last read: what cards count, and which report an action
on an account resolves."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from domain.admin import OpenReport
from domain.views import OpenReports
from storage.database import Database, json_list, to_db_time


class OpenReportsStore(Database):
    """Open reports by account; a change in what a card counts makes the card stale, so it is shown again."""

    def replace_open_reports(self, reports: Sequence[OpenReport]) -> int:
        """Hold exactly `reports` as the open ones (a fresh read of the platform's queue); returns how many cards
        show a different count now (their card versions are bumped)."""
        with self.atomic():
            before = self._counts_by_cluster()
            self.db.execute("DELETE FROM open_reports")
            self.db["open_reports"].insert_all(
                ({"id": r.id, "account_id": r.account_id, "created_at": to_db_time(r.created_at),
                  "category": r.category} for r in reports), pk="id", replace=True)
            return self._bump_changed(before)

    def resolve_open_reports(self, account_ids: Sequence[str]) -> int:
        """Forget the open reports of accounts an action resolved (the platform resolves them with the action)."""
        with self.atomic():
            before = self._counts_by_cluster()
            self.db.execute("DELETE FROM open_reports WHERE account_id IN (SELECT value FROM json_each(?))",
                            [json_list(account_ids)])
            return self._bump_changed(before)

    def newest_open_reports(self, account_ids: Sequence[str]) -> dict[str, str]:
        """The newest open report about each of `account_ids` that has one (the report an action is filed under)."""
        return dict(self.db.execute(
            """SELECT account_id, id FROM open_reports WHERE account_id IN (SELECT value FROM json_each(?))
               GROUP BY account_id HAVING created_at = max(created_at)""", [json_list(account_ids)]).fetchall())

    def cluster_open_reports(self, cluster_id: str) -> OpenReports | None:
        """The open reports about a cluster's accounts, or None when there are none."""
        count, accounts, newest = self.db.execute(
            """SELECT count(*), count(DISTINCT r.account_id), max(r.created_at || ' ' || r.id) FROM open_reports r
               WHERE r.account_id IN (SELECT account_id FROM cluster_members WHERE cluster_id = ?)""",
            [cluster_id]).fetchone()
        return OpenReports(count, accounts, newest.rpartition(" ")[2]) if count else None

    def _counts_by_cluster(self) -> dict[str, int]:
        return dict(self.db.execute(
            """SELECT m.cluster_id, count(DISTINCT r.id) FROM open_reports r
               JOIN cluster_members m ON m.account_id = r.account_id GROUP BY m.cluster_id""").fetchall())

    def _bump_changed(self, before: dict[str, int]) -> int:
        after = self._counts_by_cluster()
        changed = [cluster for cluster in set(before) | set(after) if before.get(cluster) != after.get(cluster)]
        self.db.execute("UPDATE clusters SET card_version = card_version + 1 "
                        "WHERE id IN (SELECT value FROM json_each(?))", [orjson.dumps(changed).decode()])
        return len(changed)
