"""Gates for the fake servers: hold one request so a test knows the bot is inside a given step.

A test kills the bot while a request is held, which is a kill at an exact step without any
test-only code in the bot. `after=False` drops the request as if it never arrived;
`after=True` carries it out first and holds only the reply, as when a reply is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Gate:
    """One held request: `arrived` is set when it comes; it is answered (or dropped) after `release`."""

    after: bool = False
    when: Callable[[Any], bool] = lambda _request: True
    seconds: float = 60.0
    """The longest the request is held: a short hold is a slow reply (a client timeout), a long one a hang."""
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """Let the held request go on (its client is usually dead by then)."""
        self.released.set()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the request to arrive; fail the test if it does not."""
        if not self.arrived.wait(timeout):
            raise AssertionError(f"the gated request did not arrive within {timeout}s")

    def hold(self) -> None:
        """Called by the server on the request's thread: signal arrival, then wait for release."""
        self.arrived.set()
        self.released.wait(self.seconds)


class Gates:
    """The gates armed on one fake server, each taken by the first request it matches."""

    def __init__(self) -> None:
        self._gates: dict[str, list[Gate]] = {}
        self._lock = threading.Lock()

    def arm(self, key: str, gate: Gate) -> Gate:
        """Hold the next request to `key` that `gate.when` accepts."""
        with self._lock:
            self._gates.setdefault(key, []).append(gate)
        return gate

    def take(self, key: str, request: Any) -> Gate | None:
        """The gate this request trips, removed so it trips once."""
        with self._lock:
            for gate in self._gates.get(key, []):
                if gate.when(request):
                    self._gates[key].remove(gate)
                    return gate
        return None

    def release_all(self) -> None:
        """Let every held request go (at the end of a test)."""
        with self._lock:
            for gates in self._gates.values():
                for gate in gates:
                    gate.release()
