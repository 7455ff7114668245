"""Wiring from configuration: the poller over the configured source, and the jobs that run beside it."""

from __future__ import annotations

from datetime import UTC, timedelta
from functools import partial

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from detectors import WindowIndex
from service.config import Config
from service.digests import catch_up, digest_plans, post_due_digest
from service.notify import Notifier
from service.poller import Poller
from service.registry import build_source
from service.retention import apply_retention
from service.scheduler import ScheduledJob
from storage import Store

DIGEST_RETRY_MINUTES = 5
"""How often a digest that failed is tried again, within its grace."""


def build_poller(config: Config, store: Store, notifier: Notifier) -> Poller:
    """A poller reading the configured source into `store`, detecting in a fresh window, announcing to `notifier`."""
    return Poller(store, build_source(config), WindowIndex(config.detection), notifier, config.source.batch_size)


def housekeeping_jobs(config: Config, store: Store, notifier: Notifier) -> list[ScheduledJob]:
    """The digest jobs (cron, in the configured time zone, retried while one failed) and the daily retention job."""
    grace = int(config.digest.grace_minutes * 60)
    plans = digest_plans(config.digest)
    jobs = [
        ScheduledJob(f"{plan.kind}-digest", plan.trigger, partial(post_due_digest, store, notifier, plan),
                     misfire_grace_seconds=grace)
        for plan in plans
    ]
    if plans:
        jobs.append(ScheduledJob("digest-retry", IntervalTrigger(minutes=DIGEST_RETRY_MINUTES),
                                 lambda: catch_up(store, notifier, plans, store.clock(), timedelta(seconds=grace))))
    jobs.append(ScheduledJob("retention", CronTrigger(hour=config.retention.hour, timezone=UTC),
                             partial(apply_retention, store, config.retention.days)))
    return jobs
