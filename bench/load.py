"""Load benchmark: simulated days of posts replayed through the real poller, storage, detectors and Slack notifier.

Each day has `--posts` posts spread over the day, with `--campaigns` campaigns: by default real-language
posts (`bench/realtext.py`: the honeypot's legitimate tweets, spliced, and campaigns of exact, edited,
link and image copies); with `--text synthetic`, the first 24 hours of `cli.synthetic`'s randomised
campaigns, look-alikes and real-text chatter, padded with chatter by distinct old accounts.
The feed is read by the real jsonl source in the batches `run` would take at `--poll-seconds`, and
cards go through the real send queue and Slack notifier to the fake Slack of the test suite, served
from a child process so that its records are not counted as the bot's memory.
Measured: each poll's latency against the interval, RSS after each poll, and the Slack writes each
poll needs (at Slack's one message per second per channel they take that many seconds); the send
queue's own pacing is measured separately at its real one-second interval. As `run` checkpoints the
database's write-ahead log beside the poller between polls (the `checkpoint` job), a thread here
checkpoints after every poll while the next one runs.

    python bench/load.py --posts 1000000 --campaigns 200 --days 2 --out bench/LOAD.md
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import orjson
from slack_sdk import WebClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import realtext

from cli.synthetic import HOURS, POSTS_PER_CAMPAIGN, START, generate
from detectors import WindowIndex
from detectors.bulk import return_freed_blocks
from handlers.notifier import SlackNotifier
from handlers.send_queue import SendQueue
from platforms.jsonl import JsonlSource
from service.poller import Poller
from storage import Store
from tests.slack_fakes import FakeSlack

_TEXT_KINDS = {"real": "real-language text from `bench/realtext.py`",
               "synthetic": "`cli.synthetic`'s randomised campaigns and look-alikes on real text, with filler"}
_ACCOUNT_KINDS = {"returning": "organic accounts returning day after day (3 % of later days' posts by new ones)",
                  "daily": "new organic accounts every day"}
WRITES = frozenset({"chat.postMessage", "chat.update"})


def _day(posts: int, campaigns: int, seed: int, day: int, text: str, users: list[dict],
         returning: list[dict] | None) -> list[dict]:
    """One day of `text` posts: real-language (bench/realtext.py), or the generator's first day and filler.

    Real-language organic accounts come back on later days when `returning` holds them (see `realtext.records`).
    """
    if text == "real":
        return realtext.records(posts, seed + day, START + timedelta(days=day), f"d{day}-", users, campaigns,
                                returning)
    first_day = _shifted(START.strftime("%Y-%m-%dT%H:%M:%SZ"), timedelta(days=1))
    per_day = round(campaigns * HOURS / 24) * POSTS_PER_CAMPAIGN
    generated = [r for r in generate(per_day, seed + day).posts if r["created_at"] < first_day]
    rng = random.Random(seed * 1000 + day)
    shift = timedelta(days=day)
    for record in generated:
        record["id"] = f"d{day}-{record['id']}"
        record["author"]["id"] = f"d{day}-{record['author']['id']}"
        record["created_at"] = _shifted(record["created_at"], shift)
    start = START + shift
    filler = []
    for index in range(max(0, posts - len(generated))):
        when = start + timedelta(seconds=rng.uniform(0, 86400))
        words = " ".join(f"w{rng.randrange(200_000)}" for _ in range(rng.randint(6, 18)))
        author = f"d{day}-o{rng.randrange(posts // 4 + 1)}"
        filler.append({"id": f"d{day}-f{index}", "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "text": f"{words} {index}", "author": {"id": author, "handle": author,
                                                               "created_at": "2019-01-01T00:00:00Z"}})
    return generated + filler


def _shifted(stamp: str, shift: timedelta) -> str:
    return (datetime.fromisoformat(stamp) + shift).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_feed(path: Path, posts: int, campaigns: int, days: int, seed: int, text: str, accounts: str) -> int:
    """Write the feed, oldest first, and return how many posts it holds."""
    users = realtext.load_users() if text == "real" else []
    returning: list[dict] | None = [] if accounts == "returning" else None
    records = [record for day in range(days)
               for record in _day(posts, campaigns, seed, day, text, users, returning)]
    records.sort(key=lambda record: record["created_at"])
    with path.open("wb") as out:
        for record in records:
            out.write(orjson.dumps(record) + b"\n")
    return len(records)


@dataclass
class Poll:
    """What one poll cost, and how much of it went to storing, detecting and recording clusters."""

    seconds: float
    rss_mb: float
    slack_writes: int
    fetched: int
    window: int
    steps: dict[str, float]


STEPS = ("fetch", "store", "detect", "record", "announce", "other")
"""A poll's steps as the report splits its time; "other" is what no wrapped step holds: mostly the commit of the
batch's transaction, then known-campaign matching, account fill-in and the cursor."""


class StepTimer:
    """Wraps a method of the poller's collaborators so each poll's time can be split by step."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, owner: object, name: str, step: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[step] = self.spent.get(step, 0.0) + time.perf_counter() - started

        setattr(owner, name, timed)

    def take(self) -> dict[str, float]:
        spent, self.spent = self.spent, {}
        return spent


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _serve_fake_slack(urls: Connection, stop: Event) -> None:
    fake = FakeSlack()
    urls.send(fake.url)
    stop.wait()
    fake.shutdown()


class CountingClient(WebClient):
    """A Web API client that counts the writes it makes (cards, updates, thread replies)."""

    writes = 0

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        if api_method in WRITES:
            self.writes += 1
        return super().api_call(api_method, **kwargs)


class Checkpointer:
    """The bot's `checkpoint` job (`service.wiring`), run after each poll on a thread of its own, as the scheduler
    runs it between polls: simulated polls follow each other at once, so it runs while the next poll does."""

    def __init__(self, store: Store) -> None:
        self._store, self._due, self._done = store, threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._work, name="checkpoint", daemon=True)
        self._thread.start()

    def poll_done(self) -> None:
        self._due.set()

    def close(self) -> None:
        self._done.set()
        self._due.set()
        self._thread.join()

    def _work(self) -> None:
        while self._due.wait() and not self._done.is_set():
            self._due.clear()
            self._store.checkpoint()


def replay(feed: Path, total: int, days: int, poll_seconds: float, workdir: Path, hours: float) -> list[Poll]:
    """Poll the feed as `run` would, `poll_seconds` of simulated time per poll, for `hours`; measure every poll.

    The fake Slack runs in a child process: what it records of days of cards is not the bot's memory.
    """
    fork = multiprocessing.get_context("fork")
    urls, child_end = fork.Pipe()
    stop = fork.Event()
    server = fork.Process(target=_serve_fake_slack, args=(child_end, stop), daemon=True)
    server.start()
    client = CountingClient(base_url=urls.recv())
    sender = SendQueue(client, interval=0.0, backoff=0.01)
    polls_total = math.ceil(days * 86400 / poll_seconds)
    batch = math.ceil(total / polls_total)
    store = Store.open(workdir / "chorus.db")
    clock = {"now": START}
    store.clock = lambda: clock["now"]
    notifier = SlackNotifier(sender, "CMOD", 30, store.clock)
    poller = Poller(store, JsonlSource(feed), WindowIndex(), notifier, batch)
    checkpointer = Checkpointer(store)
    timer = StepTimer()
    timer.wrap(poller.source, "fetch", "fetch")
    timer.wrap(store, "ingest", "store")
    timer.wrap(poller.index, "add", "detect")
    timer.wrap(poller.index, "clusters", "detect")
    timer.wrap(store, "sync_clusters", "record")
    timer.wrap(poller, "announce", "announce")
    measured = []
    if hours * 3600 < days * 86400:
        polls_total = math.ceil(hours * 3600 / poll_seconds)
    for number in range(polls_total):
        clock["now"] = START + timedelta(seconds=(number + 1) * poll_seconds)
        writes_before = client.writes
        started = time.perf_counter()
        stats = poller.poll_once()
        seconds = time.perf_counter() - started
        checkpointer.poll_done()
        writes = client.writes - writes_before
        steps = timer.take()
        steps["other"] = max(0.0, seconds - sum(steps.values()))
        measured.append(Poll(seconds, _rss_mb(), writes, stats.fetched if stats else 0, len(poller.index), steps))
        if number % 30 == 0:
            print(f"poll {number}/{polls_total}: {seconds:.2f}s, window {len(poller.index):,}, "
                  f"RSS {measured[-1].rss_mb:,.0f} MB, Slack writes {writes}", file=sys.stderr, flush=True)
        if stats is not None and stats.exhausted:
            break
    checkpointer.close()
    sender.close()
    stop.set()
    server.join()
    store.close()
    return measured


def pacing(messages: int = 8) -> list[float]:
    """Gaps between posts the send queue makes to one channel at its real one-second interval."""
    fake = FakeSlack()
    sender = SendQueue(WebClient(base_url=fake.url), interval=1.0)
    for index in range(messages):
        sender.submit("chat.postMessage", channel="CMOD", text=f"card {index}")
    sender.close(timeout=messages * 2.0)
    calls = fake.of("chat.postMessage")
    fake.shutdown()
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


def _pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def report(args: argparse.Namespace, total: int, polls: list[Poll], gaps: list[float], seconds: float) -> str:
    """The figures as Markdown."""
    latency = [p.seconds for p in polls]
    writes = [p.slack_writes for p in polls]
    # at one message a second per channel, a poll's Slack writes add that many seconds to it
    paced = [p.seconds + max(0, p.slack_writes - 1) for p in polls]
    over = sum(t > args.poll_seconds for t in paced)
    per_hour = max(1, round(3600 / args.poll_seconds))
    hourly_rss = [polls[min(len(polls) - 1, i)].rss_mb for i in range(0, len(polls), per_hour)]
    day_polls = round(86400 / args.poll_seconds)
    lines = [
        "# Load benchmark",
        "",
        f"    python bench/load.py --posts {args.posts} --campaigns {args.campaigns} --days {args.days} "
        f"--poll-seconds {args.poll_seconds:g} --seed {args.seed} --text {args.text} --accounts {args.accounts}"
        + (f" --hours {args.hours:g}" if args.hours != float("inf") else ""),
        "",
        f"Feed: {total:,} posts over {args.days} simulated day(s) ({args.posts:,} a day, "
        f"{args.campaigns} campaigns a day, {_TEXT_KINDS[args.text]}, {_ACCOUNT_KINDS[args.accounts]}), replayed in "
        f"{len(polls):,} polls ({len(polls) * args.poll_seconds / 3600:g} simulated hours) of about "
        f"{polls[0].fetched:,} posts, one per {args.poll_seconds:g} s of simulated "
        f"time, through the real jsonl source, storage, detectors, send queue and Slack notifier (fake Slack on "
        f"127.0.0.1). Machine: 2 cores. Wall time {seconds / 60:.1f} min.",
        "",
        "| measure | median | p95 | max |",
        "| --- | --- | --- | --- |",
        f"| poll latency, s (interval {args.poll_seconds:g} s) | {statistics.median(latency):.2f} | "
        f"{_pct(latency, 0.95):.2f} | {max(latency):.2f} |",
        f"| Slack writes per poll (cards, updates, thread replies) | {statistics.median(writes):g} | "
        f"{_pct(writes, 0.95):g} | {max(writes)} |",
        f"| poll latency with Slack paced at 1 message/s, s | {statistics.median(paced):.2f} | "
        f"{_pct(paced, 0.95):.2f} | {max(paced):.2f} |",
        "",
        f"Polls over their interval: {sum(t > args.poll_seconds for t in latency)} of {len(polls)} unpaced, "
        f"{over} with Slack's pacing. Slack writes in total: {sum(writes):,}.",
        "",
        f"Send-queue pacing to one channel at `send_interval_seconds = 1`: gaps between posts "
        f"min {min(gaps):.2f} s, median {statistics.median(gaps):.2f} s (Slack allows about one a second).",
        "",
        "RSS (MB) at each simulated hour: " + ", ".join(f"{value:,.0f}" for value in hourly_rss),
        "",
        "Where the time goes (median / p95 / max seconds per poll): " + ", ".join(
            f"{step} {statistics.median(v):.2f} / {_pct(v, 0.95):.2f} / {max(v):.2f}"
            for step in STEPS if (v := [p.steps.get(step, 0.0) for p in polls])),
        "",
        "Latency as the window fills (window posts: poll seconds): " + ", ".join(
            f"{polls[i].window:,}: {polls[i].seconds:.2f}" for i in range(0, len(polls), max(1, len(polls) // 8))),
        "",
        f"RSS at the end of day 1: {polls[min(len(polls), day_polls) - 1].rss_mb:,.0f} MB; at the end: "
        f"{polls[-1].rss_mb:,.0f} MB; peak {max(p.rss_mb for p in polls):,.0f} MB. Window at the end: "
        f"{polls[-1].window:,} posts (detection.window_hours = 24).",
    ]
    full = polls[day_polls:]  # the window holds a whole day from here on: the steady state
    if full:
        steady = [p.seconds for p in full]
        lines += ["", f"Steady state (the {len(full):,} polls after the first simulated day, the window full): poll "
                  f"latency median {statistics.median(steady):.2f} s, p95 {_pct(steady, 0.95):.2f} s, max "
                  f"{max(steady):.2f} s; RSS {min(p.rss_mb for p in full):,.0f} to "
                  f"{max(p.rss_mb for p in full):,.0f} MB."]
        p95 = _pct(steady, 0.95)
        slow = [p for p in full if p.seconds >= p95]
        medians = (f"{step} {statistics.median(p.steps.get(step, 0.0) for p in slow):.2f}" for step in STEPS)
        lines += ["", f"The steady state's slowest 5 % ({len(slow)} polls from {p95:.2f} s), median "
                  "seconds per step: " + ", ".join(medians)]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Generate the feed, replay it, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts per simulated day")
    parser.add_argument("--campaigns", type=int, default=200, help="campaigns per simulated day")
    parser.add_argument("--days", type=int, default=2, help="simulated days (the second shows whether RSS is flat)")
    parser.add_argument("--poll-seconds", type=float, default=60.0)
    parser.add_argument("--hours", type=float, default=float("inf"), help="stop after this much simulated time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--text", choices=["real", "synthetic"], default="real",
                        help="real-language posts (bench/realtext.py) or cli.synthetic's randomised campaigns")
    parser.add_argument("--accounts", choices=["returning", "daily"], default="returning",
                        help="real text: organic accounts post again on later days, or every day's accounts are new")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    args = parser.parse_args()
    return_freed_blocks()  # as `bot.py` does
    with tempfile.TemporaryDirectory(prefix="chorus-load-") as scratch:
        feed = Path(scratch) / "feed.jsonl"
        total = write_feed(feed, args.posts, args.campaigns, args.days, args.seed, args.text, args.accounts)
        print(f"feed: {total:,} posts", file=sys.stderr, flush=True)
        started = time.perf_counter()
        polls = replay(feed, total, args.days, args.poll_seconds, Path(scratch), args.hours)
        seconds = time.perf_counter() - started
    text = report(args, total, polls, pacing(), seconds)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
