"""The verbs that run and end: `scan`, `eval`, `demo` and `digest`, each from parsed arguments to output."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from cli.console import ConsoleNotifier
from cli.evaluate import evaluate, format_report, read_labels, read_truth
from cli.sample_feed import write_sample_feed
from cli.scan import ScanResult, read_posts, render_table, scan, terminal_progress
from detectors import DetectionSettings
from domain.records import RecordError, parse_time
from service.config import Config, SourceConfig, load_config


def moment_argument(text: str) -> datetime:
    """An RFC 3339 time from the command line, or an error naming the problem."""
    try:
        return parse_time(text, "the time")
    except RecordError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def cmd_scan(args: argparse.Namespace) -> int:
    """Detect clusters in a file of posts and print the report."""
    config = load_config(args.config)
    if args.engine == "spark":
        result = _spark_scan(args, config.detection)
        if result is None:
            return 2
    else:
        if args.output or args.master:
            print("chorus: error: --output and --master go with --engine spark", file=sys.stderr)
            return 2
        result = scan(Path(args.file), config.detection, terminal_progress(), since=args.since, until=args.until)
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    for skipped in result.skipped[:20]:
        print(f"skipped {skipped.where}: {skipped.problem}", file=sys.stderr)
    if result.skipped_count > 20:
        print(f"... and {result.skipped_count - 20:,} more skipped", file=sys.stderr)
    if args.format == "json":
        sys.stdout.buffer.write(orjson.dumps(result.report(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(render_table(result))
    return 0


def _spark_scan(args: argparse.Namespace, settings: DetectionSettings) -> ScanResult | None:
    """Run the Spark engine, or say what is missing for it (None)."""
    from cli.spark.session import INSTALL, SparkUnavailable

    try:
        from cli.spark.engine import spark_scan
    except ImportError as error:
        print(f"chorus: error: --engine spark needs Apache Spark for Python ({error.name} is missing): {INSTALL}",
              file=sys.stderr)
        return None
    try:
        return spark_scan(args.file, settings, args.master, args.since, args.until,
                          Path(args.output) if args.output else None)
    except SparkUnavailable as error:
        print(f"chorus: error: {error}", file=sys.stderr)
        return None


def cmd_demo(args: argparse.Namespace) -> int:
    """Replay the built-in sample feed through the real scheduler, storage and detectors."""
    from service.scheduler import run_polling  # the running bot's stack: loaded by the verbs that use it
    from service.wiring import build_poller
    from storage import Store

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
        run_polling(build_poller(config, store, notifier), poll_seconds=0.2, stop_when_drained=True)
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
    labels = Path(args.labels)
    print(format_report(evaluate(posts, read_labels(labels), config.detection, read_truth(labels))))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    """Print the digest of the last N hours from the database."""
    from storage import Store

    config = load_config(args.config)
    store = Store.open(config.storage.path)
    until = store.clock()
    ConsoleNotifier().digest(store.digest(until - timedelta(hours=args.hours), until))
    store.close()
    return 0
