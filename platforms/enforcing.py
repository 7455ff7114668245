"""What every enforcer shares: failures turned into results, and each idempotency key acted on once.

The lead's storage is the source of truth for what was done; it can be plugged in as the
`DoneKeys` store. The in-memory default still stops a retried button press within one run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from domain.decisions import Action
from platforms.base import (
    ActionResult,
    Case,
    Enforcer,
    act,
    acts_on_domains,
    in_effect,
    offered_actions,
    reads_state,
    reason_limit,
)
from platforms.http import PlatformError

log = logging.getLogger(__name__)


class Unsupported(PlatformError):
    """The platform does not offer this action for this account; the message says what to do instead."""


def attempt(action: Action, account_id: str, send: Callable[[], str]) -> ActionResult:
    """Run `send` (which returns a success detail) and turn a `PlatformError` into a failed result."""
    try:
        detail = send()
    except Unsupported as error:
        return ActionResult(account_id, action, ok=False, detail=str(error), unsupported=True)
    except PlatformError as error:
        log.warning("%s on %s failed: %s", action, account_id, error)
        return ActionResult(account_id, action, ok=False, detail=str(error), retryable=error.retryable)
    return ActionResult(account_id, action, ok=True, detail=detail)


class DoneKeys(Protocol):
    """Where the outcome of each idempotency key is kept."""

    def get(self, key: str) -> ActionResult | None:
        """The stored outcome of `key`, or None if it was never settled."""
        ...

    def put(self, key: str, result: ActionResult) -> None:
        """Remember the outcome of `key`."""
        ...


class MemoryDoneKeys:
    """A `DoneKeys` store that lives as long as the process."""

    def __init__(self) -> None:
        self._results: dict[str, ActionResult] = {}

    def get(self, key: str) -> ActionResult | None:
        """The stored outcome of `key`, or None."""
        return self._results.get(key)

    def put(self, key: str, result: ActionResult) -> None:
        """Remember the outcome of `key`."""
        self._results[key] = result


class OnceOnly:
    """Wraps an `Enforcer` so each idempotency key is acted on at most once.

    Only a success is settled and replayed: a failed action did not happen, so once its cause
    is fixed (a token scope, an outage) the same key may be tried again.
    """

    def __init__(self, enforcer: Enforcer, done: DoneKeys | None = None) -> None:
        self.enforcer = enforcer
        self.done = done if done is not None else MemoryDoneKeys()
        self.reads_state = reads_state(enforcer)
        self.reason_limit = reason_limit(enforcer)
        self.account_actions = offered_actions(enforcer)
        self.domain_actions = acts_on_domains(enforcer)
        self._lock = threading.Lock()

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Carry out the action unless this key was already settled; then return the settled result."""
        return self.act_on_case(action, account_id, reason, idempotency_key, None)

    def act_on_case(self, action: Action, account_id: str, reason: str, idempotency_key: str,
                    case: Case | None) -> ActionResult:
        """`act`, handing the case on to an enforcer that records it."""
        with self._lock:
            settled = self.done.get(idempotency_key)
            if settled is not None:
                return settled
            result = act(self.enforcer, action, account_id, reason, idempotency_key, case)
            if result.ok:
                self.done.put(idempotency_key, result)
            return result

    def in_effect(self, action: Action, account_id: str) -> bool | None:
        """The wrapped enforcer's answer, when it can read the account's state back."""
        return in_effect(self.enforcer, action, account_id)
