"""Bluesky source benchmark: how many Jetstream events a second the source sustains on this machine, and
what reading continuously (a background thread) costs a poll compared with connecting once per poll.

A fake Jetstream (tests/bluesky_fakes.py: a real WebSocket server) runs in a child process, so its
sending does not share the measured process's interpreter; events are the recorded production posts
of tests/fixtures/bluesky with fresh DIDs and record keys, one in ten a post delete and one in two
hundred an identity event, as a `wantedCollections=app.bsky.feed.post` subscription receives them.
Authors come from a fake AppView on 127.0.0.1.

    python bench/bluesky.py [--events 200000] [--out bench/BLUESKY.md]

Measured:
1. replay: the reader thread receiving and decoding a backlog as fast as the socket delivers it
   (events/s), then polls turning the buffered creates into posts (posts/s), authors cached and not;
2. live: events published at a fixed rate (Bluesky's average, a burst, and well past both) while a
   poll takes the buffer every second: the lag from publication to a poll holding the post;
3. connect per poll instead: each poll opens a connection at its cursor and reads until it has caught
   up with the stream, for a minute of events at each rate: what a poll would spend on the stream.
"""

from __future__ import annotations

import argparse
import copy
import functools
import multiprocessing
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from platforms.bluesky import POST_COLLECTION, BlueskySource, JetstreamSettings, ProfileCache, subscribe_url
from platforms.http import HttpClient, HttpSettings
from tests.bluesky_fakes import FakeAppView, FakeJetstream, fixture, post_creates, profile, recorded_events
from tests.platform_server import FakePlatform

AUTHORS = 20_000
RATES = (60, 500, 3000)
"""Events a second: Bluesky's average (~5M posts a day), a burst of hundreds a second, and past both."""


def did_of(index: int) -> str:
    return f"did:plc:bench{index % AUTHORS:019d}"


@functools.cache
def _templates() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    recorded = recorded_events()
    creates = post_creates(recorded) + post_creates(fixture("events_derived.jsonl"))
    return creates, next(e for e in recorded if e["kind"] == "identity")


def synthetic(count: int, start_us: int, first: int = 0) -> list[dict[str, Any]]:
    """`count` events as a post subscription sees them, built on the recorded and derived post creates."""
    templates, identity = _templates()
    events = []
    for index in range(first, first + count):
        time_us, did = start_us + index - first, did_of(index)
        if index % 200 == 199:
            events.append({**identity, "did": did, "time_us": time_us,
                           "identity": {**identity["identity"], "did": did}})
            continue
        event = copy.deepcopy(templates[index % len(templates)])
        event.update(did=did, time_us=time_us)
        event["commit"]["rkey"] = f"3mb{index:011d}"
        if index % 10 == 9:
            event["commit"] = {"rev": event["commit"]["rev"], "operation": "delete", "collection": POST_COLLECTION,
                               "rkey": f"3mb{index - 1:011d}"}
        events.append(event)
    return events


def serve(conn: Connection, count: int) -> None:
    """Child process: a fake Jetstream holding `count` events; then live publication on command."""
    jetstream = FakeJetstream(synthetic(count, 1_700_000_000_000_000))
    conn.send(jetstream.url)
    while True:
        command = conn.recv()
        if command[0] == "stop":
            break
        _, rate, seconds = command  # publish at `rate` events/s for `seconds`, stamped with the real time
        started, published, tick = time.time(), 0, 0.01
        while (elapsed := time.time() - started) < seconds:
            due = int(elapsed * rate) - published
            if due > 0:
                jetstream.publish(synthetic(due, int(time.time() * 1e6) - due + 1, first=count + published))
                published += due
            time.sleep(tick)
        conn.send(published)
    jetstream.close()


def appview() -> tuple[FakePlatform, FakeAppView]:
    server = FakePlatform()
    now = datetime.now(UTC)
    fake = FakeAppView(server, [profile(did_of(i), f"bench{i}.bsky.social", now) for i in range(AUTHORS)])
    return server, fake


def source(url: str, server: FakePlatform, buffer_posts: int) -> BlueskySource:
    client = HttpClient("bluesky", server.url, HttpSettings(timeout_seconds=10, retries=0))
    return BlueskySource(JetstreamSettings(url, buffer_posts=buffer_posts), ProfileCache(client, 2 * AUTHORS))


def replay(url: str, server: FakePlatform, fake: FakeAppView, count: int) -> dict[str, float]:
    """The backlog read by the thread, then taken by polls of 5,000 (cold cache, then warm)."""
    bluesky = source(url, server, buffer_posts=count + 1)
    start = str(1_700_000_000_000_000)
    began = time.perf_counter()
    bluesky.fetch(start, 0)
    reader = bluesky._reader
    assert reader is not None
    while reader.received < count:
        time.sleep(0.005)
    read_seconds = time.perf_counter() - began
    creates = bluesky.buffered
    cursor, cold_posts, began = start, 0, time.perf_counter()
    while cold_posts < creates:
        batch = bluesky.fetch(cursor, 5000)
        cursor, cold_posts = batch.next_cursor, cold_posts + len(batch.posts)
    cold_seconds = time.perf_counter() - began
    calls = len(fake.calls())
    bluesky.close()
    # the same backlog again, every author cached: the cost of building posts alone
    warm = source(url, server, buffer_posts=count + 1)
    warm.profiles = bluesky.profiles
    warm.fetch(start, 0)
    while warm._reader is not None and warm._reader.received < count:
        time.sleep(0.005)
    cursor, warm_posts, began = start, 0, time.perf_counter()
    while warm_posts < creates:
        batch = warm.fetch(cursor, 5000)
        cursor, warm_posts = batch.next_cursor, warm_posts + len(batch.posts)
    warm_seconds = time.perf_counter() - began
    warm.close()
    return {"events": count, "read_s": read_seconds, "creates": creates, "cold_s": cold_seconds,
            "profile_calls": calls, "warm_s": warm_seconds}


def live(url: str, server: FakePlatform, conn: Connection, rate: int, seconds: float) -> dict[str, float]:
    """Publish at `rate` while a poll takes the buffer every second; lag from publication to the poll."""
    bluesky = source(url, server, buffer_posts=50_000)
    bluesky.fetch(None, 0)  # live tail, as a first start
    while bluesky._reader is None or not bluesky._reader.connected:
        time.sleep(0.01)
    conn.send(("publish", rate, seconds))
    lags, polls, peak, cursor, fetch_seconds = [], 0, 0, None, []
    end = time.time() + seconds + 3
    while time.time() < end:
        time.sleep(1.0)
        peak = max(peak, bluesky.buffered)
        began = time.perf_counter()
        batch = bluesky.fetch(cursor, 100_000)
        fetch_seconds.append(time.perf_counter() - began)
        now = time.time()
        cursor = batch.next_cursor
        polls += 1
        reader = bluesky._reader
        if batch.posts and reader is not None:
            lags.append(now - int(cursor) / 1e6)
    published = conn.recv()
    received = bluesky._reader.received if bluesky._reader else 0
    bluesky.close()
    return {"rate": rate, "published": published, "received": received, "lag_max": max(lags) if lags else 0.0,
            "lag_median": statistics.median(lags) if lags else 0.0, "peak_buffer": peak,
            "fetch_p50": statistics.median(fetch_seconds), "fetch_max": max(fetch_seconds)}


def per_poll(url: str, rate: int, count: int) -> dict[str, float]:
    """Connect at a cursor, read a minute's worth of events at `rate` (from the backlog), hang up: per poll."""
    wanted = rate * 60
    handshakes, totals = [], []
    cursor = 1_700_000_000_000_000
    for _ in range(5):
        began = time.perf_counter()
        with connect(subscribe_url(url, cursor), compression=None, max_size=4 * 1024 * 1024) as ws:
            handshakes.append(time.perf_counter() - began)
            read = 0
            while read < min(wanted, count):
                event = orjson.loads(ws.recv())
                read += 1
            cursor = event["time_us"] + 1
            ws.close_socket()
        totals.append(time.perf_counter() - began)
        if cursor >= 1_700_000_000_000_000 + count - wanted:
            cursor = 1_700_000_000_000_000
    return {"rate": rate, "events": min(wanted, count), "handshake_ms": statistics.median(handshakes) * 1000,
            "poll_s": statistics.median(totals)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(child, args.events), daemon=True)
    process.start()
    url = parent.recv()
    server, fake = appview()
    try:
        measured = replay(url, server, fake, args.events)
        lives = [live(url, server, parent, rate, args.live_seconds) for rate in RATES]
        polls = [per_poll(url, rate, args.events) for rate in RATES]
    finally:
        parent.send(("stop",))
        process.join(timeout=10)
        server.close()
    report = render(measured, lives, polls, args)
    print(report)
    if args.out:
        args.out.write_text(report)


def render(measured: dict[str, float], lives: list[dict[str, float]], polls: list[dict[str, float]],
           args: argparse.Namespace) -> str:
    events_per_s = measured["events"] / measured["read_s"]
    lines = [
        "# Bluesky source benchmark",
        "",
        f"    python bench/bluesky.py --events {args.events} --live-seconds {args.live_seconds:g}",
        "",
        f"Machine: {multiprocessing.cpu_count()} cores, Python {platform.python_version()}. Fake Jetstream in a "
        "child process on 127.0.0.1 (a real WebSocket), fake AppView on 127.0.0.1.",
        "",
        f"**The source sustains {events_per_s:,.0f} events/s** (reader thread: receive, decode, filter, buffer): "
        f"{measured['events']:,} events in {measured['read_s']:.2f} s, {measured['creates']:,} of them post creates.",
        "",
        "| poll step over the backlog | posts | seconds | posts/s | AppView calls |",
        "| --- | --- | --- | --- | --- |",
        f"| posts built, authors looked up ({AUTHORS:,} distinct, 25 a call) | {measured['creates']:,} | "
        f"{measured['cold_s']:.2f} | {measured['creates'] / measured['cold_s']:,.0f} | {measured['profile_calls']:,} |",
        f"| posts built, authors cached | {measured['creates']:,} | {measured['warm_s']:.2f} | "
        f"{measured['creates'] / measured['warm_s']:,.0f} | 0 |",
        "",
        f"## Live: published at a fixed rate for {args.live_seconds:g} s, one poll a second taking the buffer",
        "",
        "| events/s | published | received | lag median, s | lag max, s | buffer peak | poll's fetch p50 / max, s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in lives:
        lines.append(f"| {run['rate']:,} | {run['published']:,} | {run['received']:,} | {run['lag_median']:.2f} | "
                     f"{run['lag_max']:.2f} | {run['peak_buffer']:,} | "
                     f"{run['fetch_p50']:.3f} / {run['fetch_max']:.3f} |")
    lines += [
        "",
        "## Connecting once per poll instead: one minute of events read at each poll",
        "",
        "| events/s | events a poll | handshake, ms (127.0.0.1) | poll's time on the stream, s |",
        "| --- | --- | --- | --- |",
    ]
    for run in polls:
        lines.append(f"| {run['rate']:,} | {run['events']:,} | {run['handshake_ms']:.1f} | {run['poll_s']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
