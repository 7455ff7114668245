"""Shared fixtures: post records and feeds on disk, the CLI run as a user would, a database with clusters,
the fake Slack, the bot's Slack runtime over real HTTP, and the whole bot as a killable subprocess
(tests/bot_process.py), stopped after each test whatever happened. Tests under tests/e2e are marked slow."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.decisions import Action
from domain.models import Author, Cluster, Post
from handlers.app import SlackRuntime
from platforms.base import ActionResult, Enforcer
from platforms.jsonl import JsonlOutbox
from service.config import Config, DigestConfig, Secret, Secrets, SlackConfig, SourceConfig, StorageConfig
from service.poller import Poller
from storage import Store
from tests.bot_process import SIGNING_SECRET, BotProcess, bot_command
from tests.platform_server import FakePlatform
from tests.slack_fakes import FakeSlack, FakeSocketMode, SlackClient, SocketSlackClient

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e runs the real bot as a subprocess: marked `slow`, so that
    `pytest -m "not slow"` is the fast loop and plain `pytest` runs it all."""
    for item in items:
        if E2E in item.path.parents:
            item.add_marker(pytest.mark.slow)


def record(post_id: str, text: str, author: str, at: str = "2026-02-20T06:00:00Z", **extra: Any) -> dict[str, Any]:
    """A valid post record in the format of docs/formats.md."""
    return {"id": post_id, "created_at": at, "text": text,
            "author": {"id": author, "handle": author, "created_at": "2026-02-10T00:00:00Z"}, **extra}


def write_jsonl(path: Path, records: list[Any]) -> Path:
    """Write records (dicts, or raw strings for malformed lines) one per line."""
    lines = [item.encode() if isinstance(item, str) else orjson.dumps(item) for item in records]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python bot.py ...` in a subprocess from a scratch folder, as a user would."""

    def run(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(bot_command(*args), cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
                              env=env)

    return run


MODERATORS = ["UMOD1", "UMOD2"]
START = datetime(2026, 2, 20, 6, 0, tzinfo=UTC)


def seed_cluster(store: Store, prefix: str, accounts: int, text: str = "Vote X on March 3! #VoteX",
                 handle: str = "voter") -> str:
    """Store `accounts` new accounts posting `text` and the cluster they form; return its id."""
    posts = [Post(id=f"{prefix}-p{i}", created_at=START + timedelta(minutes=i), text=text,
                  author=Author(id=f"{prefix}-a{i}", handle=f"{handle}{prefix}{i}",
                                created_at=START - timedelta(days=3 + i), url=f"https://social.example/@{prefix}{i}"))
             for i in range(accounts)]
    return add_posts(store, prefix, posts)


def add_posts(store: Store, key: str, posts: list[Post]) -> str:
    """Ingest posts and record them as (a continuation of) the cluster with this key."""
    store.ingest("jsonl", posts, None)
    members = [row[0] for row in store.db.execute(
        "SELECT id FROM posts WHERE id LIKE ? ORDER BY id", [f"{key}-p%"])]
    authors = sorted({row[0] for row in store.db.execute(
        "SELECT author_id FROM posts WHERE id LIKE ?", [f"{key}-p%"])})
    cluster = Cluster(key=f"text:{key}", score=0.91, accounts=authors, posts=members,
                      reasons=[f"{len(authors)} accounts posted the same text within 40 min"],
                      sample_text=posts[0].text, first_seen=START, last_seen=START + timedelta(minutes=40))
    store.sync_clusters([cluster])
    return cluster.id


class RecordingEnforcer:
    """An enforcer that succeeds and remembers what it was asked to do, in order."""

    def __init__(self) -> None:
        self.done: list[tuple[Action, str]] = []

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        self.done.append((action, account_id))
        return ActionResult(account_id, action, ok=True)


class RecordingNotifier:
    """A notifier that keeps what a poller announces (cluster ids) and tells the moderators (notices)."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.notices: list[str] = []

    def publish(self, view: Any, change: Any) -> tuple[None, None]:
        self.published.append(view.id)
        return None, None

    def notice(self, text: str) -> None:
        self.notices.append(text)


@dataclass
class Harness:
    """Everything a Slack scenario test touches."""

    fake: FakeSlack
    runtime: SlackRuntime
    store: Store
    slack: SlackClient | SocketSlackClient
    outbox: Path
    base: str

    def announce(self) -> int:
        """What the poller does after detection: post new cards, update grown ones."""
        return Poller(self.store, None, None, self.runtime.notifier).announce()  # type: ignore[arg-type]

    def card_ts(self, cluster_id: str) -> str:
        view = self.store.cluster_view(cluster_id)
        assert view is not None and view.message_ts
        return view.message_ts

    def outbox_lines(self) -> list[dict]:
        return [orjson.loads(line) for line in self.outbox.read_bytes().splitlines()] if self.outbox.exists() else []


def slack_config(tmp_path: Path, api_url: str, app_token: str = "", **slack: object) -> Config:
    """Settings for tests: a tiny send interval and backoff, a two-person threshold of 5 accounts; Socket Mode
    with `app_token`."""
    settings = {"channel": "CMOD", "moderators": MODERATORS, "moderator_group": "SMODS", "two_person_threshold": 5,
                "send_interval_seconds": 0.0, "retry_backoff_seconds": 0.01, "home_refresh_seconds": 0.1, **slack}
    return Config(storage=StorageConfig(path=str(tmp_path / "chorus.db")),
                  source=SourceConfig(outbox=str(tmp_path / "actions.jsonl")),
                  slack=SlackConfig(**settings),  # type: ignore[arg-type]
                  digest=DigestConfig(channel="CLEADS"),
                  secrets=Secrets(slack_bot_token=Secret("xoxb-test"), slack_signing_secret=Secret(SIGNING_SECRET),
                                  slack_app_token=Secret(app_token), slack_api_url=api_url))


@pytest.fixture
def server() -> Iterator[FakePlatform]:
    """A fake platform on 127.0.0.1 (see tests/platform_server.py), closed after the test."""
    platform = FakePlatform()
    yield platform
    platform.close()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.groups["SMODS"] = ["UGROUPMOD"]
    yield fake
    fake.shutdown()
    fake.server_close()


@contextmanager
def running_bot(tmp_path: Path, fake_slack: FakeSlack, enforcer: Enforcer | None = None,
                socket: FakeSocketMode | None = None, sections: dict[str, Any] | None = None,
                **slack: object) -> Iterator[Harness]:
    """The bot's Slack runtime serving HTTP on a free port, or connected over Socket Mode to `socket`, against
    the fake Slack; `slack` overrides settings, `sections` whole sections of the configuration."""
    config = replace(slack_config(tmp_path, fake_slack.url, "xapp-test" if socket else "", **slack), **(sections or {}))
    store = Store.open(config.storage.path)
    runtime = SlackRuntime(config, store, enforcer or JsonlOutbox(config.source.outbox))
    try:
        runtime.start(port=0, host="127.0.0.1")
        base = f"http://127.0.0.1:{runtime.port}"
        client = SocketSlackClient(socket) if socket else SlackClient(base + "/slack/events", SIGNING_SECRET)
        yield Harness(fake_slack, runtime, store, client, Path(config.source.outbox), base)
    finally:
        runtime.stop()
        store.close()


@pytest.fixture
def harness(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    with running_bot(tmp_path, fake_slack) as bot:
        yield bot


def _toml(sections: dict[str, dict[str, Any]]) -> str:
    """The few TOML shapes a test config needs: tables of strings, numbers, booleans and string lists."""
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def bot_process() -> Iterator[Callable[..., BotProcess]]:
    """Make `BotProcess`es for a work folder; every one still running is killed after the test, pass or fail."""
    made: list[BotProcess] = []

    def make(workdir: Path, env: dict[str, str], *extra_args: str) -> BotProcess:
        made.append(BotProcess(workdir, env, extra_args))
        return made[-1]

    yield make
    for bot in made:
        bot.close()


@pytest.fixture
def slack_bot(bot_process: Callable[..., BotProcess]) -> Callable[..., BotProcess]:
    """`slack_bot(workdir, fake_slack, mastodon_url, **sections)`: a `BotProcess` polling a fake Mastodon every
    0.2 s and posting to the fake Slack, on a port it binds itself; `sections` override the settings."""

    def make(workdir: Path, fake: FakeSlack, mastodon_url: str, **sections: dict[str, Any]) -> BotProcess:
        settings: dict[str, dict[str, Any]] = {
            "storage": {"path": "chorus.db"},
            "source": {"kind": "mastodon", "poll_seconds": 0.2},
            "mastodon": {"base_url": mastodon_url, "hash_media": False},
            "slack": {"channel": "CMOD", "moderators": MODERATORS, "port": 0, "send_interval_seconds": 0.0,
                      "retry_backoff_seconds": 0.05, "timeout_seconds": 2},
            "http": {"timeout_seconds": 2, "retries": 1, "backoff_seconds": 0.05},
            "digest": {"daily": ""},
        }
        for name, values in sections.items():
            settings[name] = {**settings.get(name, {}), **values}
        (workdir / "chorus.toml").write_text(_toml(settings))
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-crash", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": fake.url, "MASTODON_ACCESS_TOKEN": "mastodon-crash-token"}
        return bot_process(workdir, env)

    return make
