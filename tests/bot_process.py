"""The one way tests start Chorus in a subprocess: `bot_command` for a verb that runs and ends, and
`BotProcess` for `bot.py run`, which a test can freeze, kill at an exact step and start again."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage import Store
from tests.slack_fakes import FakeSlack, SlackClient, wait_for

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "test-signing-secret"
LISTENING = re.compile(rb"listening for Slack on http://[^:]+:(\d+)/")


def bot_command(*args: str) -> list[str]:
    """`python bot.py ARGS` with this interpreter, as a user runs it."""
    return [sys.executable, str(ROOT / "bot.py"), *args]


@dataclass
class BotProcess:
    """`bot.py run --config WORKDIR/chorus.toml` as a subprocess; each run logs to bot-N.log in the work folder.

    In Slack mode the configuration asks for port 0: the bot binds a free port and logs it, and
    `port` reads it from the log, so no port is guessed before the bot holds it.
    """

    workdir: Path
    env: dict[str, str]
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0

    def start(self) -> BotProcess:
        """Start the bot (again)."""
        self.runs += 1
        with self._log_path().open("wb") as log:
            self.process = subprocess.Popen(
                bot_command("run", "--config", str(self.workdir / "chorus.toml"), *self.extra_args),
                cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def _log_path(self, run: int | None = None) -> Path:
        return self.workdir / f"bot-{run or self.runs}.log"

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut or the OOM killer."""
        assert self.process is not None and self.process.poll() is None, "the bot died before the test killed it"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: stop the bot where it is, so a test can look at its database before killing it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def stop(self) -> int:
        """SIGTERM once the bot is polling (its handler is installed by then) and wait; returns the exit code."""
        assert self.process is not None
        process, current = self.process, self._log_path()
        wait_for(lambda: process.poll() is not None or "polling " in current.read_text(errors="replace"),
                 timeout=30)
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=30)

    def close(self) -> None:
        """Make sure no run outlives the test (a fixture's clean-up, whatever the test did)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot handle the kill's clean-up
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        """Everything every run of the bot wrote."""
        return "".join(self._log_path(run).read_text(errors="replace") for run in range(1, self.runs + 1))

    @property
    def port(self) -> int:
        """The port the current run bound for Slack's requests, read from its log once it is listening."""
        current = self._log_path()
        found = wait_for(lambda: LISTENING.search(current.read_bytes()), timeout=30)
        return int(found[1])

    @property
    def slack(self) -> SlackClient:
        """Signed requests to the bot, as Slack sends them."""
        return SlackClient(f"http://127.0.0.1:{self.port}/slack/events", SIGNING_SECRET)

    def store(self) -> Store:
        """The bot's database, opened beside it (close it when done)."""
        return Store.open(self.workdir / "chorus.db")

    def card(self, fake: FakeSlack, phrase: str, timeout: float = 30.0) -> tuple[str, str]:
        """Wait for the card whose text holds `phrase` to be posted and recorded; its cluster id and ts."""
        def posted() -> dict[str, Any] | None:
            return next((m for m in fake.channel_messages("CMOD") if phrase in json.dumps(m["blocks"])), None)

        message = wait_for(posted, timeout=timeout)
        cluster_id = message["metadata"]["event_payload"]["marker"].removeprefix("card:")
        store = self.store()
        try:
            wait_for(lambda: store.cluster_view(cluster_id).message_ts, timeout=timeout)
        finally:
            store.close()
        return cluster_id, message["ts"]
