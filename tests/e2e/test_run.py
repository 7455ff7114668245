"""The long-running bot: killed at random moments it loses and repeats nothing; SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

from cli.sample_feed import sample_posts
from detectors import detect
from domain.records import parse_post
from storage import Store
from tests.bot_process import BotProcess
from tests.conftest import write_jsonl


def _config(tmp_path: Path, batch_size: int) -> Path:
    write_jsonl(tmp_path / "feed.jsonl", sample_posts())
    config = tmp_path / "chorus.toml"
    config.write_text(f'[storage]\npath = "chorus.db"\n[source]\npath = "feed.jsonl"\n'
                      f"batch_size = {batch_size}\npoll_seconds = 0.05\n")
    return config


SECRET = "mastodon-token-that-must-never-be-printed"


def _bot(bot_process: Callable[..., BotProcess], workdir: Path) -> BotProcess:
    env = {**os.environ, "MASTODON_ACCESS_TOKEN": SECRET, "MASTODON_BASE_URL": "http://127.0.0.1:9"}
    return bot_process(workdir, env, "--log-level", "debug")


def test_sigkill_at_random_moments_loses_and_repeats_nothing(tmp_path: Path, bot_process) -> None:
    _config(tmp_path, batch_size=5)
    feed_ids = [record["id"] for record in sample_posts()]
    rng = random.Random(2)
    kills = 0
    bot = _bot(bot_process, tmp_path)
    for _ in range(60):
        bot.start()
        time.sleep(rng.uniform(0.5, 2.0))  # start-up takes about half a second
        bot.kill()
        kills += 1
        store = Store.open(tmp_path / "chorus.db")
        done = store.count("posts") == len(feed_ids) and not store.unnotified()
        store.close()
        if done:
            break
    bot.start()  # one clean run to let anything left finish, then stop it
    time.sleep(1.0)
    bot.stop()

    assert kills >= 3  # the feed took several lives to get through
    store = Store.open(tmp_path / "chorus.db")
    stored = [row[0] for row in store.db.execute("SELECT id FROM posts ORDER BY rowid")]
    assert sorted(stored) == sorted(feed_ids)
    assert store.db["cursors"].get("jsonl")["posts_total"] == len(feed_ids)  # counted once each
    assert store.unnotified() == []
    expected = {a for c in detect([parse_post(r) for r in sample_posts()]) for a in c.accounts}
    flagged = {row[0] for row in store.db.execute("SELECT DISTINCT account_id FROM cluster_members")}
    assert flagged == expected
    flagged_events = [e for e in store.audit_entries() if e.event == "cluster_flagged"]
    assert len(flagged_events) == store.count("clusters")


def test_sigterm_stops_between_steps_and_exits_zero(tmp_path: Path, bot_process) -> None:
    _config(tmp_path, batch_size=50)
    bot = _bot(bot_process, tmp_path).start()
    deadline = time.monotonic() + 20
    store = None
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if (tmp_path / "chorus.db").exists():
            store = Store.open(tmp_path / "chorus.db")
            if store.count("posts"):
                break
            store.close()
    assert bot.stop() == 0, bot.log()
    output = bot.log()
    assert SECRET not in output
    assert "received SIGTERM, stopping after the current step" in output and "stopped" in output
    assert "Traceback" not in output
    store = Store.open(tmp_path / "chorus.db")
    assert store.db["cursors"].get("jsonl")["posts_total"] == store.count("posts")  # stopped between steps
