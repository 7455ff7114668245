"""Reports: the digest of a period read from every table, and which digests reached the channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil
from statistics import median

from domain.decisions import Action, AttemptStatus, ClusterStatus
from domain.views import Digest, PendingCluster
from storage.database import Database, from_db_time, to_db_time


class Reports(Database):
    """Digests: what a period flagged and decided, and the record that each was posted once."""

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

    def keep_digest_chart(self, kind: str, period_end: datetime, chart: str) -> None:
        """Record the chart uploaded for a digest being posted, so a retry shows the same one."""
        with self.atomic():
            self.db.execute("UPDATE digests SET chart_file = ? WHERE kind = ? AND period_end = ?",
                            [chart, kind, to_db_time(period_end)])

    def digest_chart(self, kind: str, period_end: datetime) -> str | None:
        """The chart uploaded for a digest, if one was."""
        row = self.db.execute("SELECT chart_file FROM digests WHERE kind = ? AND period_end = ?",
                              [kind, to_db_time(period_end)]).fetchone()
        return row[0] if row else None

    def digest_posted(self, kind: str, period_end: datetime) -> bool:
        """Whether the digest of this period was posted."""
        return bool(self.db.execute("SELECT 1 FROM digests WHERE kind = ? AND period_end = ? AND posted_at IS NOT NULL",
                                    [kind, to_db_time(period_end)]).fetchone())

    def _flagged_between(self, since: datetime, until: datetime) -> tuple[int, int, int]:
        return tuple(self.db.execute(
            """SELECT count(*), coalesce(sum(account_count), 0), coalesce(sum(post_count), 0) FROM clusters
               WHERE flagged_at >= ? AND flagged_at < ?""", [to_db_time(since), to_db_time(until)],
        ).fetchone())

    def digest(self, since: datetime, until: datetime, unclaimed_after: timedelta | None = None) -> Digest:
        """Summarise clusters flagged and decisions taken in [since, until), what still waits, and the trend;
        with `unclaimed_after`, also the open clusters nobody claimed that have waited longer than that."""
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
                "WHERE status = ? AND flagged_at < ? ORDER BY flagged_at, id", [ClusterStatus.OPEN, window[1]],
            )
        ]
        claimed = {row[0] for row in self.db.execute("SELECT cluster_id FROM claims")}
        unclaimed = ([p for p in pending if p.id not in claimed and p.flagged_at < until - unclaimed_after]
                     if unclaimed_after is not None else [])
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
            failed_actions=sum(n for key, n in actions.items() if key.endswith(f":{AttemptStatus.FAILED}")),
            largest=largest,
            accounts_suspended=actions.get(f"{Action.SUSPEND}:{AttemptStatus.OK}", 0),
            accounts_verification=actions.get(f"{Action.REQUIRE_VERIFICATION}:{AttemptStatus.OK}", 0),
            accounts_limited=actions.get(f"{Action.LIMIT}:{AttemptStatus.OK}", 0),
            decision_minutes_p50=median(minutes) if minutes else None,
            decision_minutes_p90=_percentile(minutes, 0.9),
            previous_clusters=previous_clusters, previous_accounts=previous_accounts,
            bucket_hours=bucket_hours,
            timeline=[(since + timedelta(hours=bucket_hours * i), c, a) for i, (c, a) in enumerate(counts)],
            unclaimed=unclaimed,
            unclaimed_hours=unclaimed_after / timedelta(hours=1) if unclaimed_after is not None else None,
        )

def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, ceil(fraction * len(ordered)) - 1)]
