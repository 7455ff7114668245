"""The database locked by another writer, or full: the poll fails without losing or half-writing anything,
the bot keeps running, a click is answered with what happened, and everything catches up once it clears."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from cli.sample_feed import sample_posts
from detectors import WindowIndex
from handlers import ids
from platforms.jsonl import JsonlOutbox, JsonlSource
from service.poller import Poller
from storage import Store
from tests.conftest import running_bot, seed_cluster, write_jsonl
from tests.slack_fakes import wait_for


class Cards:
    """The notifier side of these tests: a console-free record of what would be announced."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.notices: list[str] = []

    def publish(self, view, change):
        self.published.append(view.id)
        return None, None

    def digest(self, digest) -> None:
        pass

    def notice(self, text: str) -> None:
        self.notices.append(text)


def _poller(tmp_path: Path, store: Store, batch_size: int = 40) -> tuple[Poller, Cards, list[str]]:
    records = sample_posts()
    write_jsonl(tmp_path / "feed.jsonl", records)
    cards = Cards()
    return Poller(store, JsonlSource(tmp_path / "feed.jsonl"), WindowIndex(), cards, batch_size), cards, \
        [r["id"] for r in records]


def _drained(poller: Poller, store: Store, feed_ids: list[str]) -> None:
    poller.drain()
    assert sorted(row[0] for row in store.db.execute("SELECT id FROM posts")) == sorted(feed_ids)
    assert store.db["cursors"].get("jsonl")["posts_total"] == len(feed_ids)
    assert store.unnotified() == []
    clusters = {row[0] for row in store.db.execute("SELECT id FROM clusters")}
    assert clusters and set(poller.notifier.published) == clusters
    flagged = [e.cluster_id for e in store.audit_entries() if e.event == "cluster_flagged"]
    assert sorted(flagged) == sorted(clusters)


def test_a_locked_database_fails_the_poll_and_the_next_one_catches_up(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "chorus.db", lock_timeout=0.2)
    poller, _, feed_ids = _poller(tmp_path, store)
    poller.poll_once()
    other = sqlite3.connect(tmp_path / "chorus.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process (a backup, a second bot) holds the write lock
    before = store.count("posts")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        poller.poll_once()
    assert store.count("posts") == before and not store.db.conn.in_transaction
    other.execute("ROLLBACK")
    other.close()
    _drained(poller, store, feed_ids)


def test_a_full_database_fails_the_poll_leaves_no_open_transaction_and_catches_up(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "chorus.db")
    poller, _, feed_ids = _poller(tmp_path, store, batch_size=400)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk is all but full
    with pytest.raises(sqlite3.OperationalError, match="full"):
        poller.poll_once()
    assert store.count("posts") == 0 and store.cursor("jsonl") is None
    assert not store.db.conn.in_transaction  # a failed write must not leave the connection inside a transaction
    store.db.execute("PRAGMA max_page_count = 1073741823")  # space is freed
    _drained(poller, store, feed_ids)


def test_a_click_while_the_database_is_locked_is_answered_and_nothing_is_half_done(tmp_path: Path, fake_slack):
    with running_bot(tmp_path, fake_slack) as bot:
        bot.store.lock_timeout = 0.2
        cid = seed_cluster(bot.store, "l", 3)
        bot.announce()
        ts = bot.card_ts(cid)
        bot.store.close()  # listener threads open their connections anew, with the short lock timeout
        other = sqlite3.connect(tmp_path / "chorus.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        assert bot.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts).status_code == 200
        [note] = wait_for(lambda: fake_slack.of("chat.postEphemeral"))
        assert "could not finish this (OperationalError)" in note.params["text"]
        other.execute("ROLLBACK")
        other.close()
        assert bot.store.decisions_for(cid) == [] and bot.outbox_lines() == []
        bot.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)  # once the lock is gone, the same click works
        wait_for(lambda: bot.store.decisions_for(cid) and bot.store.decisions_for(cid)[0].status == "done")
        assert len(bot.outbox_lines()) == 3



class LockingOutbox(JsonlOutbox):
    """An outbox after whose `lock_after`-th action another writer takes the database and holds it."""

    def __init__(self, path: Path, db_path: Path, lock_after: int) -> None:
        super().__init__(path)
        self.db_path, self.lock_after, self.acted = db_path, lock_after, 0
        self.holder: sqlite3.Connection | None = None

    def act(self, action, account_id, reason, idempotency_key):
        result = super().act(action, account_id, reason, idempotency_key)
        self.acted += 1
        if self.acted == self.lock_after:
            self.holder = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
            self.holder.execute("BEGIN IMMEDIATE")
        return result


def test_a_decision_a_failed_write_left_half_done_is_finished_while_the_bot_runs(tmp_path: Path, fake_slack):
    outbox = LockingOutbox(tmp_path / "actions.jsonl", tmp_path / "chorus.db", lock_after=3)
    with running_bot(tmp_path, fake_slack, enforcer=outbox) as bot:
        bot.store.lock_timeout = 0.2
        cid = seed_cluster(bot.store, "h", 3)
        bot.announce()
        bot.store.close()  # listener threads open their connections anew, with the short lock timeout
        assert bot.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", bot.card_ts(cid)).status_code == 200
        [note] = wait_for(lambda: fake_slack.of("chat.postEphemeral"))  # the third account's outcome was not written
        assert "could not finish this (OperationalError)" in note.params["text"]
        outbox.holder.execute("ROLLBACK")
        [decision] = bot.store.decisions_for(cid)
        assert decision.status == "executing"

        [card_sync] = bot.runtime.jobs(60)
        card_sync.run()  # seen once: it might be a click still being carried out
        assert bot.store.decisions_for(cid)[0].status == "executing"
        card_sync.run()  # seen again and nobody is working on it: finished now, not at the next start
        assert bot.store.decisions_for(cid)[0].status == "done"
        assert len(bot.outbox_lines()) == 3  # the platform was not asked twice
        stamped = wait_for(lambda: [u for u in fake_slack.of("chat.update") if "Suspended 3 accounts" in str(u.params)])
        assert stamped
        assert "decision_resumed" in [entry.event for entry in bot.store.audit_entries()]


class SlowOutbox(JsonlOutbox):
    """An outbox whose first action waits until the test lets it go: a platform call under way."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.started, self.go = threading.Event(), threading.Event()

    def act(self, action, account_id, reason, idempotency_key):
        self.started.set()
        assert self.go.wait(30)
        return super().act(action, account_id, reason, idempotency_key)


def test_a_decision_still_being_carried_out_is_not_taken_for_stuck(tmp_path: Path, fake_slack):
    outbox = SlowOutbox(tmp_path / "actions.jsonl")
    with running_bot(tmp_path, fake_slack, enforcer=outbox) as bot:
        cid = seed_cluster(bot.store, "s", 3)
        bot.announce()
        assert bot.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", bot.card_ts(cid)).status_code == 200
        try:
            assert outbox.started.wait(10)
            [card_sync] = bot.runtime.jobs(60)
            card_sync.run()
            card_sync.run()  # half done at two runs in a row, but this process is working on it
            assert [e.event for e in bot.store.audit_entries()].count("decision_resumed") == 0
        finally:
            outbox.go.set()
        wait_for(lambda: bot.store.decisions_for(cid)[0].status == "done")
        assert len(bot.outbox_lines()) == 3
