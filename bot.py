"""Chorus: find coordinated posting campaigns and act on them from Slack.

Entry point, at the top of the layers: parses the command line and, for `run`, wires configuration,
storage, the platform, the notifier (Slack or the console) and the scheduler. The verbs that run and
end (scan, eval, demo, digest) are in `cli/`; docs/architecture.md draws the layers.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from cli.commands import cmd_demo, cmd_digest, cmd_eval, cmd_scan, moment_argument
from detectors.bulk import return_freed_blocks
from domain.errors import UserError

if TYPE_CHECKING:
    from handlers.app import SlackRuntime
    from service.config import Config
    from service.http_server import HttpEndpoints
    from service.notify import Notifier
    from service.poller import Poller
    from storage import Store

log = logging.getLogger("chorus")

PUSHED_POSTS_SECONDS = 1.0
"""How often posts pushed by webhooks are detected and announced: a campaign is on Slack within seconds."""
DRY_RUN_NOTICE = ("decisions are recorded, audited and stamped on cards (\"dry run: would have…\"), but nothing is "
                  "sent to the platform (enforcement.dry_run = true).")


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _slack_runtime(config: Config, store: Store) -> SlackRuntime | None:
    """Slack mode when SLACK_BOT_TOKEN is set: the Bolt app serving (or connected), the send queue running."""
    if not config.secrets.slack_bot_token:
        return None
    from handlers.app import SlackRuntime, check_slack_config  # Bolt and the chart stack load in Slack mode only
    from service.registry import build_enforcer
    check_slack_config(config)
    return SlackRuntime(config, store, build_enforcer(config)).start()


def _serve_webhooks(config: Config, store: Store, poller: Poller, slack: SlackRuntime | None) -> HttpEndpoints | None:
    """Mount Mastodon's webhook endpoint when MASTODON_WEBHOOK_SECRET is set: on the Slack HTTP server in HTTP mode,
    else on a port of its own (`slack.port`), opened for the webhooks alone. Returns that own server, if any."""
    if not config.secrets.mastodon_webhook_secret:
        return None
    from service.http_server import HttpEndpoints
    from service.webhooks import WEBHOOK_PATH, MastodonWebhooks

    receiver = MastodonWebhooks(config.secrets.mastodon_webhook_secret, store, poller, poller.source,  # type: ignore[arg-type]
                                config.mastodon.webhook_max_age_seconds)
    shared = slack.http if slack and slack.server else None
    endpoints = shared or HttpEndpoints()
    endpoints.mount(WEBHOOK_PATH, receiver)
    if shared is None:
        endpoints.serve("0.0.0.0", config.slack.port)  # noqa: S104 (Mastodon must reach us)
    log.info("listening for Mastodon webhooks on port %d at %s", endpoints.port, WEBHOOK_PATH)
    return None if shared else endpoints


def cmd_run(args: argparse.Namespace) -> int:
    """Poll the configured source, announce clusters, post digests and keep the database bounded, until stopped."""
    # the long-running stack (scheduler, storage, platforms) loads for `run` only: tens of MB a `scan` does not
    # hold (~80 MB where sqlite-utils finds pandas, which it then imports)
    from apscheduler.triggers.interval import IntervalTrigger

    from cli.console import ConsoleNotifier
    from domain.decisions import Action
    from service.config import load_config
    from service.digests import catch_up, digest_plans
    from service.faults import FaultReporter
    from service.scheduler import ScheduledJob, run_polling
    from service.wiring import build_poller, housekeeping_jobs
    from storage import Store

    config = load_config(args.config)
    store = Store.open(config.storage.path, lock_timeout=config.storage.lock_timeout_seconds)
    slack = _slack_runtime(config, store)
    notifier: Notifier = slack.notifier if slack else ConsoleNotifier(
        actions=[Action(name) for name in config.enforcement.actions])
    faults = FaultReporter(notifier.notice)
    jobs = housekeeping_jobs(config, store, notifier) + (slack.jobs(config.source.poll_seconds) if slack else [])
    poller = build_poller(config, store, notifier)
    webhooks = None
    try:
        webhooks = _serve_webhooks(config, store, poller, slack)
        if config.secrets.mastodon_webhook_secret:
            jobs.append(ScheduledJob("pushed-posts", IntervalTrigger(seconds=PUSHED_POSTS_SECONDS), poller.take_pushed))
        if config.enforcement.dry_run:
            log.warning("dry run: %s", DRY_RUN_NOTICE)
            notifier.notice(f"Chorus started as a dry run: {DRY_RUN_NOTICE}")
        try:
            catch_up(store, notifier, digest_plans(config.digest), store.clock(),
                     timedelta(minutes=config.digest.grace_minutes))
        except Exception as error:  # Slack down at start: the digest-retry job posts it later
            faults.failed("digest catch-up", error)
        run_polling(poller, config.source.poll_seconds, jobs, faults=faults)
    finally:
        if webhooks:
            webhooks.stop()
        if slack:
            slack.stop()
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
               "SLACK_API_URL, MASTODON_BASE_URL, MASTODON_ACCESS_TOKEN (every setting: docs/configuration.md).",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[logging_only])
    common.add_argument("--config", metavar="FILE", help="TOML settings file (default: ./chorus.toml if present)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser("run", parents=[common], help="poll the source on a schedule and post clusters",
                           description="Poll the configured source every source.poll_seconds, detect clusters "
                                       "and announce new or grown ones (console without SLACK_BOT_TOKEN).")
    run.set_defaults(handler=cmd_run)
    scan_verb = verbs.add_parser("scan", parents=[common], help="detect clusters in a file of posts, offline",
                                 description="Read posts from a .jsonl/.jsonl.gz file or folder (or Parquet, with "
                                             "--engine spark) and print the clusters that would be posted at these "
                                             "settings.")
    scan_verb.add_argument("file", help="posts in the record format of docs/formats.md (.jsonl, .jsonl.gz or a folder)")
    scan_verb.add_argument("--format", choices=["json", "text"], default="text",
                           help="json: the cluster report; text: a readable table (default)")
    scan_verb.add_argument("--since", type=moment_argument, metavar="TIME",
                           help="only posts created at or after this RFC 3339 time (e.g. 2026-02-01T00:00:00Z)")
    scan_verb.add_argument("--until", type=moment_argument, metavar="TIME", help="only posts created before this time")
    scan_verb.add_argument("--engine", choices=["default", "spark"], default="default",
                           help="spark: the same detection on Apache Spark, for backfills past one machine "
                                "(docs/spark.md; needs the [spark] extra and Java 17+)")
    scan_verb.add_argument("--master", metavar="URL",
                           help="Spark master (default local[*], or what spark-submit set); with --engine spark")
    scan_verb.add_argument("--output", metavar="DIR",
                           help="with --engine spark: also write the clusters to DIR as Parquet and JSON lines")
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
    except UserError as error:
        print(f"chorus: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
