"""Scheduled digests: when each is due, catching up a missed one once, and never posting one twice.

A digest counts as posted only once it reached the channel: one that failed (Slack down at 09:00)
or was cut short by a crash is tried again, by `catch_up`, until its grace runs out. Its chart is
uploaded first and kept with the digest's record, and the message shows it: there is no moment
between message and chart for a crash to lose the chart in, and a retry reuses the upload.
A digest names the open clusters nobody claimed for `digest.unclaimed_hours`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from service.config import DigestConfig
from service.notify import Notifier
from storage import Store

log = logging.getLogger("chorus.digest")
_posting = threading.Lock()
"""The scheduled job and the retry job may fire together: one digest is posted at a time."""


@dataclass(frozen=True)
class DigestPlan:
    """One kind of digest (daily or weekly): its cron trigger and the period it covers."""

    kind: str
    trigger: CronTrigger
    period: timedelta
    unclaimed_after: timedelta | None = None


def unclaimed_after(config: DigestConfig) -> timedelta | None:
    """How long an open cluster may wait unclaimed before digests name it; None when they name none."""
    return timedelta(hours=config.unclaimed_hours) if config.unclaimed_hours else None


def digest_plans(config: DigestConfig) -> list[DigestPlan]:
    """The digests the configuration asks for, each a cron trigger in the configured time zone."""
    plans = []
    if config.daily:
        hour, minute = config.daily.split(":")
        plans.append(DigestPlan("daily", CronTrigger(hour=int(hour), minute=int(minute), timezone=config.timezone),
                                timedelta(days=1), unclaimed_after(config)))
    if config.weekly:
        day, _, time = config.weekly.partition(" ")
        hour, minute = time.split(":")
        plans.append(DigestPlan("weekly", CronTrigger(day_of_week=day.lower(), hour=int(hour), minute=int(minute),
                                                      timezone=config.timezone), timedelta(days=7),
                                unclaimed_after(config)))
    return plans


def last_fire_time(plan: DigestPlan, now: datetime) -> datetime | None:
    """The most recent time the plan's trigger fired at or before `now`."""
    fire = plan.trigger.get_next_fire_time(None, now - plan.period - timedelta(days=1))
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = plan.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


def post_digest(store: Store, notifier: Notifier, plan: DigestPlan, period_end: datetime) -> bool:
    """Post the digest of the period ending at `period_end`, unless it was posted already."""
    with _posting:
        if not store.start_digest(plan.kind, period_end):
            log.info("%s digest for %s was posted already", plan.kind, period_end.isoformat())
            return False
        digest = store.digest(period_end - plan.period, period_end, plan.unclaimed_after)
        chart = store.digest_chart(plan.kind, period_end)
        if chart is None:
            chart = notifier.digest_chart(digest)
            if chart is not None:
                store.keep_digest_chart(plan.kind, period_end, chart)
        notifier.digest(digest, chart)
        store.finish_digest(plan.kind, period_end)
    log.info("posted the %s digest for the period ending %s", plan.kind, period_end.isoformat())
    return True


def post_due_digest(store: Store, notifier: Notifier, plan: DigestPlan) -> bool:
    """The scheduled job: post the digest of the period that ended at the trigger's latest fire time."""
    fired = last_fire_time(plan, store.clock())
    return fired is not None and post_digest(store, notifier, plan, fired)


def catch_up(store: Store, notifier: Notifier, plans: list[DigestPlan], now: datetime, grace: timedelta) -> int:
    """Post each digest whose last run was missed or failed within `grace` — once, however many were missed.

    Run on start, and between scheduled runs so a digest Slack refused is posted when Slack is back.
    """
    posted = 0
    for plan in plans:
        fired = last_fire_time(plan, now)
        if fired is not None and now - fired <= grace and not store.digest_posted(plan.kind, fired):
            posted += post_digest(store, notifier, plan, fired)
    return posted
