"""Chorus: find coordinated posting campaigns and act on them from Slack.

Entry point: the command-line verbs, and the wiring of configuration, storage, platform,
detectors, notifier and scheduler.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
from datetime import UTC, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from chorus.bulk import return_freed_blocks
from chorus.config import Config, ConfigError, SourceConfig, load_config
from chorus.console import ConsoleNotifier
from chorus.digests import catch_up, digest_plans, post_due_digest
from chorus.evaluate import evaluate, format_report, read_labels
from chorus.faults import FaultReporter
from chorus.notify import Notifier
from chorus.poller import Poller
from chorus.retention import apply_retention
from chorus.runner import ScheduledJob, run_polling
from chorus.sample_feed import write_sample_feed
from chorus.scan import read_posts, render_table, scan, terminal_progress
from detectors import WindowIndex
from platforms.jsonl import SourceError
from platforms.registry import build_enforcer, build_source
from storage import StorageError, Store

if TYPE_CHECKING:
    from handlers.app import SlackRuntime

log = logging.getLogger("chorus")


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _poller(config: Config, store: Store, notifier: Notifier) -> Poller:
    return Poller(store, build_source(config), WindowIndex(config.detection), notifier, config.source.batch_size)


DIGEST_RETRY_MINUTES = 5
"""How often a digest that failed is tried again, within its grace."""


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


def _slack_runtime(config: Config, store: Store) -> SlackRuntime | None:
    """Slack mode when SLACK_BOT_TOKEN is set: the Bolt app serving (or connected), the send queue running."""
    if not config.secrets.slack_bot_token:
        return None
    from handlers.app import SlackRuntime, check_slack_config  # Bolt and the chart stack load in Slack mode only
    check_slack_config(config)
    return SlackRuntime(config, store, build_enforcer(config)).start()


def cmd_run(args: argparse.Namespace) -> int:
    """Poll the configured source, announce clusters, post digests and keep the database bounded, until stopped."""
    config = load_config(args.config)
    store = Store.open(config.storage.path, lock_timeout=config.storage.lock_timeout_seconds)
    slack = _slack_runtime(config, store)
    notifier: Notifier = slack.notifier if slack else ConsoleNotifier()
    faults = FaultReporter(notifier.notice)
    jobs = housekeeping_jobs(config, store, notifier) + (slack.jobs(config.source.poll_seconds) if slack else [])
    try:
        try:
            catch_up(store, notifier, digest_plans(config.digest), store.clock(),
                     timedelta(minutes=config.digest.grace_minutes))
        except Exception as error:  # Slack down at start: the digest-retry job posts it later
            faults.failed("digest catch-up", error)
        run_polling(_poller(config, store, notifier), config.source.poll_seconds, jobs, faults=faults)
    finally:
        if slack:
            slack.stop()
        store.close()
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    """Detect clusters in a file of posts and print the report."""
    config = load_config(args.config)
    result = scan(Path(args.file), config.detection, terminal_progress())
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    for skipped in result.skipped[:20]:
        print(f"skipped {skipped.where}: {skipped.problem}", file=sys.stderr)
    if len(result.skipped) > 20:
        print(f"... and {len(result.skipped) - 20:,} more skipped", file=sys.stderr)
    if args.format == "json":
        sys.stdout.buffer.write(orjson.dumps(result.report(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(render_table(result))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Replay the built-in sample feed through the real scheduler, storage and detectors."""
    with tempfile.TemporaryDirectory(prefix="chorus-demo-") as scratch:
        workdir = Path(args.workdir) if args.workdir else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        feed = write_sample_feed(workdir / "sample-feed.jsonl")
        config = Config(source=SourceConfig(kind="jsonl", path=str(feed), batch_size=120,
                                            outbox=str(workdir / "actions.jsonl")))
        print(f"Chorus demo: replaying {feed} in batches of {config.source.batch_size}, no Slack needed.\n"
              f"Cards below are what moderators would see; the database is {workdir / 'demo.db'}.\n")
        store = Store.open(workdir / "demo.db")
        notifier = ConsoleNotifier()
        poller = _poller(config, store, notifier)
        run_polling(poller, poll_seconds=0.2, stop_when_drained=True)
        print()
        notifier.digest(store.digest(store.clock() - timedelta(hours=24), store.clock()))
        store.close()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Score detection against labelled accounts and print precision, recall and campaigns caught."""
    config = load_config(args.config)
    posts, skipped = read_posts(Path(args.posts), terminal_progress())
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    if skipped:
        print(f"skipped {len(skipped):,} malformed or repeated lines (first: {skipped[0].where}: "
              f"{skipped[0].problem})", file=sys.stderr)
    print(format_report(evaluate(posts, read_labels(Path(args.labels)), config.detection)))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    """Print the digest of the last N hours from the database."""
    config = load_config(args.config)
    store = Store.open(config.storage.path)
    until = store.clock()
    ConsoleNotifier().digest(store.digest(until - timedelta(hours=args.hours), until))
    store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command a verb, each with its own --help."""
    logging_only = argparse.ArgumentParser(add_help=False)
    logging_only.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                              help="log verbosity on stderr (default: info)")
    parser = argparse.ArgumentParser(
        prog="chorus", description="Find coordinated posting campaigns and act on them from Slack.",
        epilog="Secrets come from the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, "
               "SLACK_API_URL, MASTODON_BASE_URL, MASTODON_ACCESS_TOKEN.",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[logging_only])
    common.add_argument("--config", metavar="FILE", help="TOML settings file (default: ./chorus.toml if present)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser("run", parents=[common], help="poll the source on a schedule and post clusters",
                           description="Poll the configured source every source.poll_seconds, detect clusters "
                                       "and announce new or grown ones (console without SLACK_BOT_TOKEN).")
    run.set_defaults(handler=cmd_run)
    scan_verb = verbs.add_parser("scan", parents=[common], help="detect clusters in a JSONL file, offline",
                                 description="Read posts from a .jsonl/.jsonl.gz file or folder and print the "
                                             "clusters that would be posted at these settings.")
    scan_verb.add_argument("file", help="posts in the record format of DESIGN.md (.jsonl, .jsonl.gz or a folder)")
    scan_verb.add_argument("--format", choices=["json", "text"], default="text",
                           help="json: the cluster report; text: a readable table (default)")
    scan_verb.set_defaults(handler=cmd_scan)
    demo = verbs.add_parser("demo", parents=[logging_only], help="replay a built-in sample feed (no Slack needed)",
                            description="Generate a small sample day of posts with campaigns, replay it through "
                                        "the scheduler, storage and detectors, show the cards and a digest, exit.")
    demo.add_argument("--workdir", metavar="DIR", help="keep the feed, database and outbox here (default: temp)")
    demo.set_defaults(handler=cmd_demo)
    eval_verb = verbs.add_parser("eval", parents=[common], help="score detection against labelled accounts",
                                 description="Run detection over labelled posts and print account precision and "
                                             "recall, campaigns caught (>= 80%% of their accounts flagged), clusters "
                                             "per caught campaign and organic accounts flagged.")
    eval_verb.add_argument("posts", help="posts (.jsonl, .jsonl.gz or a folder)")
    eval_verb.add_argument("--labels", required=True, help="labels.csv: account_id,label,campaign")
    eval_verb.set_defaults(handler=cmd_eval)
    digest = verbs.add_parser("digest", parents=[common], help="print the digest of recent activity",
                              description="Summarise clusters flagged, decisions and what is pending.")
    digest.add_argument("--hours", type=float, default=24, help="period to cover, in hours (default: 24)")
    digest.set_defaults(handler=cmd_digest)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the verb, and turn user-caused errors into one clear line."""
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `chorus scan … | head` ends quietly, as Unix tools do
    return_freed_blocks()
    _setup_logging(args.log_level)
    try:
        return args.handler(args)
    except (ConfigError, StorageError, SourceError) as error:
        print(f"chorus: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
