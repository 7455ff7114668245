"""Storage: migrations, idempotent writes, the cursor committed with its posts, the cluster outbox."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.decisions import ACTIVE_STATUSES, PRIMARY_ACTIONS, Action, AttemptStatus
from domain.models import Cluster
from domain.records import parse_post
from storage import StorageError, Store
from storage.schema import MIGRATIONS, schema_version
from tests.conftest import record


def posts(n: int, prefix: str = "p", text: str = "same words here again", minutes: int = 0):
    start = datetime(2026, 2, 20, 6, tzinfo=UTC) + timedelta(minutes=minutes)
    return [parse_post(record(f"{prefix}{i}", text, f"{prefix}a{i}",
                              at=(start + timedelta(minutes=i)).isoformat())) for i in range(n)]


def cluster(key: str, members) -> Cluster:
    return Cluster(key=key, score=0.9, accounts=[p.author.id for p in members], posts=[p.id for p in members],
                   reasons=["r"], sample_text=members[0].text, first_seen=members[0].created_at,
                   last_seen=members[-1].created_at)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "chorus.db")


def test_new_database_is_migrated_and_reopening_changes_nothing(tmp_path: Path) -> None:
    first = Store.open(tmp_path / "chorus.db")
    assert schema_version(first.db) == len(MIGRATIONS)
    assert first.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first.ingest("jsonl", posts(3), "c1")
    first.close()
    again = Store.open(tmp_path / "chorus.db")
    assert again.count("posts") == 3 and again.cursor("jsonl") == "c1"


def test_the_database_holds_one_live_decision_per_cluster_for_every_action_the_code_has(tmp_path: Path) -> None:
    """Migrations keep their own literals; an action or status added to the code needs a migration of its own."""
    store = Store.open(tmp_path / "chorus.db")
    [index_sql] = [sql for (sql,) in store.db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'decisions_one_active'")]
    assert all(f"'{action}'" in index_sql for action in PRIMARY_ACTIONS)
    assert all(f"'{status}'" in index_sql for status in ACTIVE_STATUSES)
    store.close()


def test_unusable_database_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"folder .* does not exist"):
        Store.open(tmp_path / "missing" / "chorus.db")
    (tmp_path / "adir").mkdir()
    with pytest.raises(StorageError, match="cannot open database"):
        Store.open(tmp_path / "adir")
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match=r"junk\.db"):
        Store.open(tmp_path / "junk.db")


def test_ingesting_the_same_batch_twice_changes_nothing(store: Store) -> None:
    batch = posts(5)
    assert store.ingest("jsonl", batch, "c1") == 5
    snapshot = list(store.db.query("SELECT * FROM posts ORDER BY id"))
    assert store.ingest("jsonl", batch, "c1") == 0
    assert list(store.db.query("SELECT * FROM posts ORDER BY id")) == snapshot
    assert store.count("accounts") == 5
    assert store.db["cursors"].get("jsonl")["posts_total"] == 5


def test_commits_leave_the_log_to_the_checkpoint_job_which_copies_it_into_the_file(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "chorus.db")
    database = tmp_path / "chorus.db"
    size_before = database.stat().st_size
    long_text = "words of a long post " * 40
    for batch in range(4):  # ~6 MB of pages: past SQLite's default auto-checkpoint (1,000 pages)
        assert store.ingest("jsonl", posts(1500, prefix=f"b{batch}-", text=long_text), f"c{batch}") == 1500
    assert database.stat().st_size == size_before  # every commit only appended to the log
    assert (tmp_path / "chorus.db-wal").stat().st_size > 4_000_000
    assert store.checkpoint() == 0  # nothing left to copy: no reader holds an older snapshot
    assert database.stat().st_size > size_before + 4_000_000
    reopened = Store.open(tmp_path / "chorus.db")
    assert reopened.count("posts") == 6000


def test_a_batch_overlapping_stored_posts_counts_only_its_new_ones_once(store: Store) -> None:
    batch = posts(6)
    store.ingest("jsonl", batch[:3], "c1")
    assert store.ingest("jsonl", [*batch[1:], batch[4]], "c2") == 3
    assert store.count("posts") == 6
    assert store.db["cursors"].get("jsonl")["posts_total"] == 6


def test_posts_and_cursor_commit_together_or_not_at_all(store: Store) -> None:
    store.ingest("jsonl", posts(2), "c1")
    store.db.execute("CREATE TRIGGER fail_accounts BEFORE INSERT ON accounts BEGIN SELECT RAISE(ABORT, 'disk'); END")
    with pytest.raises(sqlite3.DatabaseError, match="disk"):
        store.ingest("jsonl", posts(3, prefix="q"), "c2")
    assert store.cursor("jsonl") == "c1"
    assert store.count("posts") == 2


def test_window_posts_come_back_as_posts(store: Store) -> None:
    batch = posts(4)
    store.ingest("jsonl", batch, "c1")
    assert store.posts_since(batch[2].created_at) == batch[2:]
    assert store.newest_post_time() == batch[-1].created_at


def test_clusters_are_created_grown_and_announced_once(store: Store) -> None:
    batch = posts(6)
    store.ingest("jsonl", batch, "c1")
    assert store.sync_clusters([cluster("text:k", batch[:4])]) == 1
    [change] = store.unnotified()
    assert change.kind == "new" and len(change.added_accounts) == 4
    store.mark_notified(change.cluster_id, "C1", "111.222")
    assert store.unnotified() == []
    assert store.sync_clusters([cluster("text:k", batch[:4])]) == 0  # nothing new: nothing to say
    assert store.sync_clusters([cluster("text:other-key", batch)]) == 1  # key drifted, posts overlap: same cluster
    [grown] = store.unnotified()
    assert grown.kind == "grown" and grown.cluster_id == change.cluster_id
    assert grown.added_accounts == ["pa4", "pa5"] and grown.added_posts == 2
    view = store.cluster_view(change.cluster_id)
    assert view is not None and len(view.accounts) == 6 and view.message_ts == "111.222"
    assert store.cluster_view("c-nope") is None
    assert [e.event for e in store.audit_entries()] == ["cluster_flagged"]


def test_audit_log_is_append_only(store: Store) -> None:
    store.audit("test_event", "U1", detail="x")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("DELETE FROM audit_log")
    assert [e.actor for e in store.audit_entries()] == ["U1"]


def test_a_succeeded_action_is_never_claimed_again(store: Store) -> None:
    batch = posts(3)
    store.ingest("jsonl", batch, "c1")
    store.sync_clusters([cluster("text:k", batch)])
    [cluster_id] = store.clusters_by_status("open")
    decision = store.record_decision(cluster_id, "suspend", ["pa0"], "U1", reason="spam")
    assert store.claim_action("k1", decision, "pa0", Action.SUSPEND) is None
    store.finish_action("k1", ok=False, detail="HTTP 500")
    assert store.claim_action("k1", decision, "pa0", Action.SUSPEND) is AttemptStatus.FAILED  # may be retried
    store.finish_action("k1", ok=True, detail="done")
    assert store.claim_action("k1", decision, "pa0", Action.SUSPEND) is AttemptStatus.OK  # never claimed again
    assert store.db["actions"].get("k1")["attempts"] == 2
    events = [e.event for e in store.audit_entries()]
    assert events == ["cluster_flagged", "decision_recorded", "action_failed", "action_ok"]
