"""The long-running loop: APScheduler runs the poll job; SIGINT/SIGTERM stop it between steps."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from chorus.poller import Poller, PollStats

log = logging.getLogger("chorus.run")


def poll_job(poller: Poller, stop_when_drained: bool) -> Callable[[], None]:
    """The scheduled job: one poll; a failed poll is logged and retried at the next interval."""

    def job() -> None:
        try:
            stats: PollStats | None = poller.poll_once()
        except Exception as error:
            log.error("poll failed, will retry next interval: %s: %s", type(error).__name__, error)
            return
        if stop_when_drained and stats is not None and stats.exhausted:
            poller.stop.set()

    return job


def run_polling(poller: Poller, poll_seconds: float, stop_when_drained: bool = False,
                install_signal_handlers: bool = True) -> None:
    """Poll every `poll_seconds` until stopped (or, for replays, until the source is drained).

    `max_instances=1` and `coalesce` keep a slow poll from overlapping or queueing behind itself.
    """
    stop = poller.stop
    if install_signal_handlers:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _frame: _request_stop(stop, number))
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        poll_job(poller, stop_when_drained), "interval", seconds=poll_seconds, id="poll",
        max_instances=1, coalesce=True, next_run_time=datetime.now(UTC), misfire_grace_time=None,
    )
    scheduler.start()
    log.info("polling %s every %gs", poller.source.name, poll_seconds)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("stopped")


def _request_stop(stop: threading.Event, signum: int) -> None:
    log.info("received %s, stopping after the current step", signal.Signals(signum).name)
    stop.set()
