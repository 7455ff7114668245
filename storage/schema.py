"""The database schema as forward migrations; `migrate` brings any older database up to date."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def _v1_core_tables(db: sqlite_utils.Database) -> None:
    db["posts"].create(
        {"id": str, "source": str, "created_at": str, "author_id": str, "text": str, "record": str,
         "ingested_at": str},
        pk="id",
    )
    db["posts"].create_index(["created_at"])
    db["posts"].create_index(["author_id"])
    db["accounts"].create(
        {"id": str, "handle": str, "display_name": str, "created_at": str, "posts_count": int,
         "followers_count": int, "following_count": int, "default_avatar": int, "url": str,
         "first_seen": str, "last_seen": str},
        pk="id",
    )
    db["accounts"].create_index(["handle"])
    db["cursors"].create(
        {"source": str, "cursor": str, "updated_at": str, "posts_total": int, "skipped_total": int},
        pk="source",
    )
    db["clusters"].create(
        {"id": str, "key": str, "score": float, "status": str, "flagged_at": str, "updated_at": str,
         "first_seen": str, "last_seen": str, "sample_text": str, "reasons": str, "signals": str,
         "media": str, "distinct_texts": int, "account_count": int, "post_count": int,
         "notified_accounts": int, "channel": str, "message_ts": str},
        pk="id",
    )
    db["clusters"].create_index(["key"])
    db["clusters"].create_index(["status"])
    db["cluster_members"].create(
        {"cluster_id": str, "post_id": str, "account_id": str, "notified": int},
        pk=("cluster_id", "post_id"),
        foreign_keys=[("cluster_id", "clusters", "id")],
    )
    db["cluster_members"].create_index(["post_id"])
    db["cluster_members"].create_index(["account_id"])
    db["decisions"].create(
        {"id": int, "cluster_id": str, "action": str, "accounts": str, "moderator": str, "reason": str,
         "policy": str, "status": str, "created_at": str, "approved_by": str, "finished_at": str},
        pk="id",
        foreign_keys=[("cluster_id", "clusters", "id")],
    )
    db["decisions"].create_index(["cluster_id"])
    db["actions"].create(
        {"idempotency_key": str, "decision_id": int, "account_id": str, "action": str, "status": str,
         "detail": str, "attempts": int, "updated_at": str},
        pk="idempotency_key",
        foreign_keys=[("decision_id", "decisions", "id")],
    )
    db["actions"].create_index(["status"])
    db["audit_log"].create(
        {"id": int, "at": str, "actor": str, "event": str, "cluster_id": str, "decision_id": int,
         "account_id": str, "detail": str},
        pk="id",
    )
    db["audit_log"].create_index(["at"])
    db.executescript(
        """
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        """
    )


def _v2_post_search(db: sqlite_utils.Database) -> None:
    db["posts"].enable_fts(["text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2")


def _v3_digests(db: sqlite_utils.Database) -> None:
    db["digests"].create({"kind": str, "period_end": str, "posted_at": str}, pk=("kind", "period_end"))


CARD_ACTIONS_V4 = ("suspend", "require_verification", "dismiss")
"""The decisions taken from a card when migrations 4 and 9 were written; each migration keeps its own literals,
so it does the same to a database however the code's enums grow later."""
CARD_ACTIONS_V10 = (*CARD_ACTIONS_V4, "limit", "domain_suspend", "domain_limit")
"""...and from migration 10 (Mastodon's limit and the domain actions): `domain.decisions.PRIMARY_ACTIONS`."""
LIVE_STATUSES = ("awaiting_approval", "approved", "executing", "done", "failed", "undoing")
"""Statuses in which a decision holds its cluster (`domain.decisions.ACTIVE_STATUSES`)."""


def _live_decision(actions: tuple[str, ...]) -> str:
    """The SQL condition of a live decision (one of `actions`, holding its cluster) for the one-live-decision
    indexes."""
    listed = ", ".join(f"'{action}'" for action in actions)
    statuses = ", ".join(f"'{status}'" for status in LIVE_STATUSES)
    return f"action IN ({listed}) AND status IN ({statuses})"


def _v4_one_active_decision(db: sqlite_utils.Database) -> None:
    """At most one live decision per cluster, enforced by SQLite itself so concurrent clicks cannot both win."""
    live = _live_decision(CARD_ACTIONS_V4)
    db.execute(f"CREATE UNIQUE INDEX decisions_one_active ON decisions(cluster_id) WHERE {live}")


def _v5_crash_recovery(db: sqlite_utils.Database) -> None:
    """What a restart needs to finish interrupted work without repeating it.

    `decisions.undoes` links an undo to the decision it reverses, so an interrupted undo resumes.
    `clusters.card_version` counts changes to what a card shows (bumped by triggers on decisions
    and actions, so no write path can forget it) and `card_shown_version` what Slack last showed:
    a card behind its version is updated on restart. `clusters.announcing_since` and
    `digests.started_at` mark a post to Slack under way, so a restart looks for it before posting again.
    """
    db["decisions"].add_column("undoes", int)
    db["decisions"].create_index(["undoes"])
    db["clusters"].add_column("card_version", int, not_null_default=0)
    db["clusters"].add_column("card_shown_version", int, not_null_default=0)
    db["clusters"].add_column("announcing_since", str)
    db["digests"].add_column("started_at", str)
    bump = "UPDATE clusters SET card_version = card_version + 1 WHERE id = {cluster}"
    of_action = "(SELECT cluster_id FROM decisions WHERE id = NEW.decision_id)"
    db.executescript(
        f"""
        CREATE TRIGGER card_changes_on_new_decision AFTER INSERT ON decisions
        BEGIN {bump.format(cluster="NEW.cluster_id")}; END;
        CREATE TRIGGER card_changes_on_decision_status AFTER UPDATE OF status, approved_by ON decisions
        BEGIN {bump.format(cluster="NEW.cluster_id")}; END;
        CREATE TRIGGER card_changes_on_new_action AFTER INSERT ON actions
        BEGIN {bump.format(cluster=of_action)}; END;
        CREATE TRIGGER card_changes_on_action_status AFTER UPDATE OF status, detail ON actions
        BEGIN {bump.format(cluster=of_action)}; END;
        """
    )


def _v6_seen_requests(db: sqlite_utils.Database) -> None:
    """Signatures of Slack requests already accepted, until Slack's own age limit refuses them,
    so a captured request replayed after a restart is refused too."""
    db["seen_requests"].create({"signature": str, "expires": float}, pk="signature")
    db["seen_requests"].create_index(["expires"])


def _v7_claims_and_digest_charts(db: sqlite_utils.Database) -> None:
    """Who has taken each cluster (`claims`: one holder at a time, the history is in the audit log), with
    triggers so a claim changes the card's version like a decision does; and the chart file a digest was
    uploaded with (`digests.chart_file`), so a digest retried after a crash reuses it instead of losing it."""
    db["claims"].create({"cluster_id": str, "moderator": str, "claimed_at": str}, pk="cluster_id",
                        foreign_keys=[("cluster_id", "clusters", "id")])
    db["claims"].create_index(["moderator"])
    db["digests"].add_column("chart_file", str)
    bump = "UPDATE clusters SET card_version = card_version + 1 WHERE id = NEW.cluster_id"
    db.executescript(
        f"""
        CREATE TRIGGER card_changes_on_new_claim AFTER INSERT ON claims BEGIN {bump}; END;
        CREATE TRIGGER card_changes_on_claim_holder AFTER UPDATE OF moderator ON claims BEGIN {bump}; END;
        """
    )


def _v8_mixed_decisions_and_review_drafts(db: sqlite_utils.Database) -> None:
    """`decisions.plan`: the action for each account when one decision suspends some accounts and requires
    verification for others (NULL: every account gets `action`); `review_drafts`: the accounts ticked so far in
    a review modal whose moderator moved to another page, so one submission covers every page."""
    db["decisions"].add_column("plan", str)
    db["review_drafts"].create({"view_id": str, "cluster_id": str, "moderator": str, "plan": str, "updated_at": str},
                               pk="view_id")
    db["review_drafts"].create_index(["updated_at"])


def _v9_latecomers(db: sqlite_utils.Database) -> None:
    """Accounts that joined a cluster after it was decided (`late_batches`, one per growth announced, with the
    thread reply offering their own buttons), and decisions on them (`decisions.late_batch`): those do not hold
    the cluster, so the one-live-decision index leaves them out and holds each batch to one instead."""
    db["late_batches"].create({"id": int, "cluster_id": str, "accounts": str, "channel": str, "message_ts": str,
                               "created_at": str}, pk="id", foreign_keys=[("cluster_id", "clusters", "id")])
    db["late_batches"].create_index(["cluster_id", "accounts"], unique=True)
    db["decisions"].add_column("late_batch", int)
    live = _live_decision(CARD_ACTIONS_V4)
    db.executescript(
        f"""
        DROP INDEX decisions_one_active;
        CREATE UNIQUE INDEX decisions_one_active ON decisions(cluster_id) WHERE {live} AND late_batch IS NULL;
        CREATE UNIQUE INDEX decisions_one_per_late_batch ON decisions(late_batch)
            WHERE {live} AND late_batch IS NOT NULL;
        """
    )


def _v10_mastodon_admin(db: sqlite_utils.Database) -> None:
    """What the Mastodon admin features keep (issue 17). `decisions.dry_run`: the decision was recorded while
    `enforcement.dry_run` was on, so nothing of it (nor of its undo) is sent to the platform, whatever the setting
    is later. The one-live-decision indexes are made again for the new actions (limit, the domain actions).
    `late_batches.kind` and `detail`: a batch is also an account that posted a known campaign's content or the
    dormant siblings of a cluster, each member with the handle and the note its thread reply shows.
    `fingerprints`: a suspended campaign's image hashes and text signatures, until they expire. `open_reports`:
    the platform's unresolved reports about accounts. `cluster_domains`: the remote domain most of a cluster's
    accounts come from, and how many follows local accounts have there. `sibling_searches`: clusters whose
    siblings were looked for, so a restart does not ask the platform again."""
    db["decisions"].add_column("dry_run", int)
    db["late_batches"].add_column("kind", str, not_null_default="late")
    db["late_batches"].add_column("detail", str)
    live = _live_decision(CARD_ACTIONS_V10)
    db.executescript(
        f"""
        DROP INDEX decisions_one_active;
        DROP INDEX decisions_one_per_late_batch;
        CREATE UNIQUE INDEX decisions_one_active ON decisions(cluster_id) WHERE {live} AND late_batch IS NULL;
        CREATE UNIQUE INDEX decisions_one_per_late_batch ON decisions(late_batch)
            WHERE {live} AND late_batch IS NOT NULL;
        """
    )
    db["fingerprints"].create({"id": int, "kind": str, "value": str, "cluster_id": str, "created_at": str,
                               "expires_at": str, "matches": int}, pk="id",
                              foreign_keys=[("cluster_id", "clusters", "id")])
    db["fingerprints"].create_index(["kind", "value"], unique=True)
    db["fingerprints"].create_index(["expires_at"])
    db["open_reports"].create({"id": str, "account_id": str, "created_at": str, "category": str}, pk="id")
    db["open_reports"].create_index(["account_id"])
    db["cluster_domains"].create({"cluster_id": str, "domain": str, "local_follows": int, "checked_at": str},
                                 pk="cluster_id",
                                 foreign_keys=[("cluster_id", "clusters", "id")])
    db["sibling_searches"].create({"cluster_id": str, "searched_at": str, "found": int}, pk="cluster_id",
                                  foreign_keys=[("cluster_id", "clusters", "id")])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_core_tables, _v2_post_search, _v3_digests, _v4_one_active_decision, _v5_crash_recovery,
    _v6_seen_requests, _v7_claims_and_digest_charts, _v8_mixed_decisions_and_review_drafts, _v9_latecomers,
    _v10_mastodon_admin,
]
"""Append only: migration N (1-based) takes a database from version N-1 to N."""


def schema_version(db: sqlite_utils.Database) -> int:
    """The version recorded in the database; 0 for a new one."""
    if "meta" not in db.table_names():
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


class SchemaTooNew(RuntimeError):
    """The database was written by a newer Chorus than this one."""


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every migration newer than the database, each in its own transaction.

    Each step takes the write lock first (BEGIN IMMEDIATE) and re-reads the version inside it,
    so two processes starting on a new database at once migrate it exactly once.
    """
    while (version := schema_version(db)) < len(MIGRATIONS):
        db.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(db) == version:
                db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
                MIGRATIONS[version](db)
                db["meta"].upsert({"key": "schema_version", "value": str(version + 1)}, pk="key")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"the database is at schema version {version}, newer than this Chorus ({len(MIGRATIONS)}); upgrade Chorus"
        )
    return version
