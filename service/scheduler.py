"""The long-running loop: APScheduler runs the poll job and the housekeeping jobs; SIGINT/SIGTERM stop it."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from service.faults import FaultReporter
from service.poller import Poller, PollStats

log = logging.getLogger("chorus.run")


@dataclass(frozen=True)
class ScheduledJob:
    """A housekeeping job (digest, retention) run beside the poll, on its own trigger."""

    id: str
    trigger: BaseTrigger
    run: Callable[[], object]
    misfire_grace_seconds: int | None = None


def _guarded(name: str, work: Callable[[], object], faults: FaultReporter) -> Callable[[], None]:
    """A job whose failure is reported once (not at every run), and its recovery too; the schedule runs on."""

    def job() -> None:
        try:
            work()
        except Exception as error:
            faults.failed(name, error)
        else:
            faults.succeeded(name)

    return job


def _poll(poller: Poller, stop_when_drained: bool) -> Callable[[], None]:
    def poll() -> None:
        stats: PollStats | None = poller.poll_once()
        if stop_when_drained and stats is not None and stats.exhausted:
            poller.stop.set()

    return poll


def run_polling(poller: Poller, poll_seconds: float, jobs: Sequence[ScheduledJob] = (),
                stop_when_drained: bool = False, install_signal_handlers: bool = True,
                faults: FaultReporter | None = None) -> None:
    """Poll every `poll_seconds` and run `jobs` on their triggers until stopped (or the source is drained).

    `max_instances=1` and `coalesce` keep a slow poll from overlapping or queueing behind itself;
    housekeeping jobs get their own worker so a long poll does not delay a digest. A failing job
    is reported through `faults` (by default to the poller's notifier) once, and again on recovery.
    """
    stop = poller.stop
    faults = faults or FaultReporter(poller.notifier.notice)
    if install_signal_handlers:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _frame: _request_stop(stop, number))
    scheduler = BackgroundScheduler(timezone=UTC, executors={"default": ThreadPoolExecutor(4)})
    scheduler.add_job(
        _guarded("poll", _poll(poller, stop_when_drained), faults), "interval", seconds=poll_seconds, id="poll",
        max_instances=1, coalesce=True, next_run_time=datetime.now(UTC), misfire_grace_time=None,
    )
    for job in jobs:
        scheduler.add_job(_guarded(job.id, job.run, faults), job.trigger, id=job.id, max_instances=1, coalesce=True,
                          misfire_grace_time=job.misfire_grace_seconds)
    scheduler.start()
    log.info("polling %s every %gs%s", poller.source.name, poll_seconds,
             "".join(f"; {job.id} {job.trigger}" for job in jobs))
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("stopped")


def _request_stop(stop: threading.Event, signum: int) -> None:
    log.info("received %s, stopping after the current step", signal.Signals(signum).name)
    stop.set()
