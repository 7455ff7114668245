"""Digests and retention, with a clock the test controls: figures, cron times, catch-up, bounds."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.image
import pytest

from domain.models import Cluster
from domain.records import parse_post
from domain.views import Digest
from handlers.chart import digest_chart
from service.config import DigestConfig
from service.digest_text import render_digest
from service.digests import catch_up, digest_plans, last_fire_time, post_digest, post_due_digest
from service.retention import apply_retention
from storage import Store
from tests.conftest import record

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A notifier that keeps what it was given (the console and Slack notifiers render the same model)."""

    def __init__(self) -> None:
        self.digests: list[Digest] = []

    def publish(self, view, change):
        return None, None

    def digest_chart(self, digest: Digest) -> None:
        return None

    def digest(self, digest: Digest, chart: str | None = None) -> None:
        self.digests.append(digest)


def _flag(store: Store, clock: Clock, at: datetime, prefix: str, accounts: int) -> str:
    """Store a cluster of `accounts` accounts, flagged at `at`; returns its id."""
    clock.now = at
    posts = [parse_post(record(f"{prefix}{i}", f"campaign text {prefix}", f"{prefix}u{i}",
                               at=at.isoformat())) for i in range(accounts)]
    store.ingest("jsonl", posts, prefix)
    store.sync_clusters([Cluster(key=f"text:{prefix}", score=0.9, accounts=[p.author.id for p in posts],
                                 posts=[p.id for p in posts], reasons=["r"], sample_text=posts[0].text,
                                 first_seen=at, last_seen=at)])
    [change] = store.unnotified()
    store.mark_notified(change.cluster_id, "C1", f"{at.timestamp():.6f}")
    return change.cluster_id


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Store:
    return Store.open(tmp_path / "chorus.db", clock=clock)


def test_digest_figures_from_a_seeded_database(store: Store, clock: Clock) -> None:
    since = T0
    _flag(store, clock, since - timedelta(hours=5), "old", 4)  # the previous period
    big = _flag(store, clock, since + timedelta(hours=1), "a", 12)
    small = _flag(store, clock, since + timedelta(hours=2), "b", 5)
    waiting = _flag(store, clock, since + timedelta(hours=3), "c", 3)
    dismissed = _flag(store, clock, since + timedelta(hours=4), "d", 6)

    clock.now = since + timedelta(hours=1, minutes=10)  # 10 min after flagging
    suspend = store.record_decision(big, "suspend", [f"au{i}" for i in range(12)], "U1")
    for i in range(12):
        key = f"k{i}"
        store.claim_action(key, suspend, f"au{i}", "suspend")
        store.finish_action(key, ok=i != 0, detail="" if i else "HTTP 500")
    store.set_cluster_status(big, "suspended")
    clock.now = since + timedelta(hours=3)  # 60 min after flagging
    verify = store.record_decision(small, "require_verification", [f"bu{i}" for i in range(5)], "U2")
    for i in range(5):
        store.claim_action(f"v{i}", verify, f"bu{i}", "require_verification")
        store.finish_action(f"v{i}", ok=True, detail="")
    store.set_cluster_status(small, "verification")
    clock.now = since + timedelta(hours=6)  # 120 min after flagging
    store.record_decision(dismissed, "dismiss", [], "U1")
    store.set_cluster_status(dismissed, "dismissed")
    store.set_cluster_status(store.clusters_by_status("open")[0], "dismissed")  # the previous period's

    digest = store.digest(since, since + timedelta(days=1))
    assert (digest.clusters_flagged, digest.accounts_flagged, digest.posts_flagged) == (4, 26, 26)
    assert (digest.previous_clusters, digest.previous_accounts) == (1, 4)
    assert digest.decisions_by_action == {"dismiss": 1, "require_verification": 1, "suspend": 1}
    assert digest.decisions_by_moderator == {"U1": 2, "U2": 1}
    assert digest.dismissed_share == pytest.approx(1 / 3)
    assert (digest.accounts_suspended, digest.accounts_verification, digest.failed_actions) == (11, 5, 1)
    assert (digest.decision_minutes_p50, digest.decision_minutes_p90) == (60, 120)
    assert [(p.id, p.accounts, p.channel) for p in digest.pending] == [(waiting, 3, "C1")]
    assert [cluster_id for cluster_id, _, _ in digest.largest] == [big, dismissed, small]
    assert digest.bucket_hours == 1 and len(digest.timeline) == 24
    assert [c for _, c, _ in digest.timeline[:5]] == [0, 1, 1, 1, 1]
    assert digest.timeline[1][2] == 12

    text = render_digest(digest)
    assert "Flagged: 4 clusters (up from 1 the period before), 26 accounts (up from 4 the period before)" in text
    assert "(dismissed 33%)" in text
    assert "11 accounts suspended, 5 sent to verification, 1 platform action failed" in text
    assert "median 1 h, 90th percentile 2 h" in text and "▁█" in text


def test_chart_is_a_png_of_the_period(store: Store, clock: Clock) -> None:
    _flag(store, clock, T0 + timedelta(hours=2), "a", 4)
    png = digest_chart(store.digest(T0, T0 + timedelta(days=1)))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert matplotlib.image.imread(io.BytesIO(png), format="png").shape[:2] == (300, 800)
    weekly = digest_chart(store.digest(T0, T0 + timedelta(days=7)))
    assert weekly.startswith(b"\x89PNG") and weekly != png


def test_cron_times_follow_the_time_zone_across_daylight_saving() -> None:
    [daily, weekly] = digest_plans(DigestConfig(daily="09:00", weekly="mon 08:30", timezone="Europe/Berlin"))
    winter = last_fire_time(daily, datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    summer = last_fire_time(daily, datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert winter == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert summer == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert last_fire_time(daily, datetime(2026, 3, 2, 7, 59, tzinfo=UTC)) == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert last_fire_time(weekly, datetime(2026, 3, 5, 12, 0, tzinfo=UTC)) == datetime(2026, 3, 2, 7, 30,
                                                                                         tzinfo=UTC)
    assert digest_plans(DigestConfig(daily="", weekly="")) == []


def test_missed_runs_are_posted_once_on_start_within_the_grace(store: Store, clock: Clock) -> None:
    plans = digest_plans(DigestConfig(daily="09:00", weekly="mon 09:00"))
    notifier = Recorder()
    clock.now = T0 + timedelta(days=2, minutes=40)  # down since before Monday 09:00; back Wednesday 09:40
    assert catch_up(store, notifier, plans, clock.now, timedelta(hours=3)) == 1
    [digest] = notifier.digests
    assert digest.until == T0 + timedelta(days=2) and digest.since == T0 + timedelta(days=1)  # the latest only
    assert catch_up(store, notifier, plans, clock.now, timedelta(hours=3)) == 0  # a restart posts nothing more
    clock.now = T0 + timedelta(days=3, hours=5)  # back after the grace: nothing is posted late
    assert catch_up(store, notifier, plans, clock.now, timedelta(hours=3)) == 0
    assert len(notifier.digests) == 1


def test_a_scheduled_digest_is_posted_once_per_period(store: Store, clock: Clock) -> None:
    [plan] = digest_plans(DigestConfig(daily="09:00"))
    notifier = Recorder()
    clock.now = T0 + timedelta(seconds=2)
    assert post_due_digest(store, notifier, plan)
    reopened = Store.open(store.path, clock=clock)  # a restart right after
    assert not post_due_digest(reopened, notifier, plan)
    assert not post_digest(reopened, notifier, plan, T0)
    clock.now = T0 + timedelta(days=1, seconds=5)
    assert post_due_digest(reopened, notifier, plan)
    assert [d.until for d in notifier.digests] == [T0, T0 + timedelta(days=1)]


@pytest.mark.slow
def test_retention_keeps_the_database_bounded_under_a_steady_feed(store: Store, clock: Clock) -> None:
    sizes = {}
    per_day = 300
    for day in range(60):
        clock.now = T0 + timedelta(days=day)
        posts = [parse_post(record(f"d{day}p{i}", f"organic post number {i} of day {day} " + "x" * 120,
                                   f"u{(day * per_day + i) % 5000}", at=(clock.now + timedelta(seconds=i)).isoformat()))
                 for i in range(per_day)]
        store.ingest("jsonl", posts, f"day{day}")
        if day == 3:
            _flag(store, clock, clock.now, "kept", 5)  # evidence: must outlive the window
        apply_retention(store, days=30)
        store.checkpoint()  # as the bot's checkpoint job does beside the poll
        sizes[day] = store.path.stat().st_size + Path(f"{store.path}-wal").stat().st_size
    assert store.count("posts") <= 31 * per_day + 5
    assert store.db.execute("SELECT count(*) FROM posts WHERE id LIKE 'kept%'").fetchone()[0] == 5
    assert store.cluster_view(store.clusters_by_status("open")[0]).post_count == 5
    assert sizes[59] <= sizes[35] * 1.15  # flat once the window is full


def test_accounts_limited_are_counted_among_what_was_carried_out(store: Store, clock: Clock) -> None:
    cluster = _flag(store, clock, T0 + timedelta(hours=1), "a", 4)
    clock.now = T0 + timedelta(hours=2)
    limit = store.record_decision(cluster, "limit", [f"au{i}" for i in range(4)], "U1")
    for i in range(4):
        store.claim_action(f"l{i}", limit, f"au{i}", "limit")
        store.finish_action(f"l{i}", ok=i != 3, detail="" if i != 3 else "HTTP 503")
    store.set_cluster_status(cluster, "limited")
    digest = store.digest(T0, T0 + timedelta(days=1))
    assert (digest.accounts_limited, digest.accounts_suspended, digest.failed_actions) == (3, 0, 1)
    assert "0 accounts suspended, 3 limited, 0 sent to verification, 1 platform action failed" in render_digest(digest)
