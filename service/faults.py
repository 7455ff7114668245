"""Report a failing job once, stay quiet while it keeps failing the same way, and say when it recovers.

A platform outage, a full disk or a locked database makes the poll fail every interval; moderators
need to hear it once (cards are not coming) and once more when it is over, not every minute.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger("chorus.faults")


@dataclass
class _Fault:
    kind: str
    since: datetime
    failures: int = 1


class FaultReporter:
    """Tracks each job's current fault; `notify` (e.g. `Notifier.notice`) hears the first report and the recovery."""

    def __init__(self, notify: Callable[[str], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.notify = notify
        self.clock = clock
        self._faults: dict[str, _Fault] = {}
        self._lock = threading.Lock()

    def failed(self, job: str, error: BaseException) -> None:
        """Record a failure of `job`: reported when it is new (or of a new kind), logged quietly otherwise."""
        kind = type(error).__name__
        with self._lock:
            fault = self._faults.get(job)
            if fault is not None and fault.kind == kind:
                fault.failures += 1
                log.debug("%s still failing (%d times): %s: %s", job, fault.failures, kind, error)
                return
            self._faults[job] = _Fault(kind, self.clock())
        log.error("%s failed, will retry at its next run: %s: %s", job, kind, error)
        self._tell(f"Chorus: {job} is failing ({kind}: {error}). It is retried at every run; "
                   "nothing is lost meanwhile, and you will hear when it works again.")

    def succeeded(self, job: str) -> None:
        """Record a success of `job`: if it was failing, say that it recovered."""
        with self._lock:
            fault = self._faults.pop(job, None)
        if fault is None:
            return
        log.info("%s works again after %d failed runs since %s", job, fault.failures, fault.since.isoformat())
        self._tell(f"Chorus: {job} works again after {fault.failures} failed "
                   f"run{'s' if fault.failures != 1 else ''} since {fault.since:%Y-%m-%d %H:%M} UTC; "
                   "it is catching up.")

    def failing(self) -> dict[str, str]:
        """The jobs failing now and the kind of their fault."""
        with self._lock:
            return {job: fault.kind for job, fault in self._faults.items()}

    def _tell(self, text: str) -> None:
        if self.notify is None:
            return
        try:
            self.notify(text)
        except Exception as error:  # the channel may be the very thing that is failing
            log.error("could not tell the moderators (%s): %s", type(error).__name__, error)
