"""Wiring from configuration: the poller over the configured source, and the jobs that run beside it."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from functools import partial

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from detectors import WindowIndex
from domain.decisions import Action
from domain.views import CardOptions
from platforms.base import Enforcer, Source, acts_on_domains, offered_actions
from service.config import Config, ConfigError
from service.decisions import Rules
from service.digests import catch_up, digest_plans, post_due_digest
from service.notify import Notifier
from service.open_reports import refresh_open_reports
from service.poller import Poller
from service.registry import build_source
from service.remote_domains import count_domain_follows
from service.retention import apply_retention
from service.scheduler import ScheduledJob
from service.siblings import look_for_siblings
from storage import Store

log = logging.getLogger("chorus")

DIGEST_RETRY_MINUTES = 5
"""How often a digest that failed is tried again, within its grace."""
CHECKPOINT_SECONDS = 15
"""How often the write-ahead log is copied into the database beside the poller (see `Database.checkpoint`)."""


def card_options(config: Config, enforcer: Enforcer) -> CardOptions:
    """What cards offer: the configured account actions the platform carries out (in the configured order), domain
    actions where the platform has them, the dry-run stamp, and the Mastodon admin pages reports link to."""
    offered = offered_actions(enforcer)
    actions = tuple(Action(name) for name in config.enforcement.actions if Action(name) in offered)
    left_out = [name for name in config.enforcement.actions if Action(name) not in offered]
    if not actions:
        raise ConfigError(f"enforcement.actions: {config.source.kind} can carry out none of "
                          f"{', '.join(config.enforcement.actions)} (it offers {', '.join(sorted(offered))})")
    if left_out:
        log.info("enforcement.actions: %s cannot %s; cards do not offer it", config.source.kind, ", ".join(left_out))
    mastodon = config.source.kind == "mastodon"
    admin_url = (config.mastodon.base_url or config.secrets.mastodon_base_url) if mastodon else ""
    return CardOptions(actions, acts_on_domains(enforcer), config.enforcement.dry_run, admin_url or None)


def decision_rules(config: Config) -> Rules:
    """The rules decisions follow, from `[slack]` and `[enforcement]`."""
    return Rules(config.slack.two_person_threshold, config.slack.undo_minutes, config.enforcement.dry_run,
                 config.enforcement.fingerprint_days)


def build_poller(config: Config, store: Store, notifier: Notifier) -> Poller:
    """A poller reading the configured source into `store`, detecting in a fresh window, announcing to `notifier`,
    and looking up what the platform's admin API knows about the clusters it announced."""
    source = build_source(config)
    return Poller(store, source, WindowIndex(config.detection), notifier, config.source.batch_size,
                  examine=partial(examine_clusters, config, store, source))


def examine_clusters(config: Config, store: Store, source: Source) -> None:
    """After detection: the open reports cards count, the siblings of clusters not searched yet, the local follows
    of remote domains (each only where the source can tell, and as configured)."""
    mastodon = config.mastodon
    if mastodon.show_reports:
        refresh_open_reports(store, source)
    if mastodon.find_siblings:
        look_for_siblings(store, source, mastodon.sibling_margin_hours)
    count_domain_follows(store, source)


def housekeeping_jobs(config: Config, store: Store, notifier: Notifier) -> list[ScheduledJob]:
    """The digest jobs (cron, in the configured time zone, retried while one failed), the daily retention job and
    the write-ahead log's checkpoints."""
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
    jobs.append(ScheduledJob("checkpoint", IntervalTrigger(seconds=CHECKPOINT_SECONDS), store.checkpoint))
    return jobs
