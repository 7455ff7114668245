"""Carry out decisions on the platform: one action per account, each claimed, done and audited once.

Each (decision, action, account) has an idempotency key. The action is claimed in storage
before the platform call and finished after it. A crash in between leaves it `pending`: nobody
knows whether the platform acted. Before such an action (or a failed one) is sent again, the
platform is asked whether it already holds (`platforms.base.Reconciling`), so an admin action
without an idempotency key on the platform's side is still carried out once. A decision a crash
left half done is finished by `Enforcement.resume` on the next start, and one a failed database
write left half done while the bot ran is found by `Enforcement.stuck` and finished the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from platforms.base import UNDO_OF, Action, ActionResult, Enforcer, in_effect
from storage import Store

log = logging.getLogger("chorus.enforce")

RUNNING = ("approved", "executing")
"""Decision statuses in which platform actions are (or are about to be) carried out."""
INTERRUPTED = (*RUNNING, "undoing")
"""Statuses a decision can only be found in at start-up if the last run stopped in the middle of it."""


def idempotency_key(decision_id: int, action: Action, account_id: str) -> str:
    """The key that makes one account's action within one decision happen at most once."""
    return f"d{decision_id}:{action}:{account_id}"


class Enforcement:
    """The decision workflow's platform side, shared by the Slack listeners and start-up recovery."""

    def __init__(self, store: Store, enforcer: Enforcer) -> None:
        self.store = store
        self.enforcer = enforcer
        self._busy: set[int] = set()
        """Decisions being carried out or undone by this process right now."""
        self._sighted: set[int] = set()
        """Half-done decisions seen by the last `stuck` call."""
        self._lock = threading.Lock()

    @contextmanager
    def _claimed(self, decision_id: int) -> Iterator[bool]:
        """Mark a decision busy for the block; yields False (and marks nothing) when it already is."""
        with self._lock:
            free = decision_id not in self._busy
            self._busy.add(decision_id)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._busy.discard(decision_id)

    def carry_out(self, decision_id: int, accounts: Sequence[str], actor: str) -> list[ActionResult]:
        """Act on `accounts` for a decision, then mark it done, or failed if any of its accounts failed."""
        decision = self.store.decision(decision_id)
        if decision is None:
            return []
        with self._claimed(decision_id) as free:
            if not free:
                return []  # already being carried out in this process; the claims would stop repeats anyway
            self.store.set_decision_status(decision_id, "executing", actor)
            action = Action(decision.action)
            results = [self._act_once(decision_id, action, account, decision.reason, actor) for account in accounts]
            failed = self.store.decision(decision_id).failures  # earlier failures count too
            self.store.set_decision_status(decision_id, "failed" if failed else "done", actor)
        return results

    def _act_once(self, decision_id: int, action: Action, account_id: str, reason: str, actor: str) -> ActionResult:
        key = idempotency_key(decision_id, action, account_id)
        earlier = self.store.claim_action(key, decision_id, account_id, str(action))
        if earlier is None:
            return ActionResult(account_id, action, ok=True, detail="already done")
        if earlier != "new" and in_effect(self.enforcer, action, account_id):
            result = ActionResult(account_id, action, ok=True,
                                  detail=f"already in effect on the platform after an interrupted {earlier} attempt")
            self.store.finish_action(key, True, result.detail, actor)
            return result
        try:
            result = self.enforcer.act(action, account_id, reason, key)
        except Exception as error:  # a platform failure must reach the card and the audit log, not kill the bot
            log.exception("%s on %s failed", action, account_id)
            result = ActionResult(account_id, action, ok=False, detail=f"{type(error).__name__}: {error}")
        self.store.finish_action(key, result.ok, result.detail, actor)
        return result

    def undo(self, decision_id: int, actor: str) -> None:
        """Reverse a decision whose undo was claimed, and reopen its cluster; resumable after a crash."""
        with self._claimed(decision_id) as free:
            if free:
                self._undo(decision_id, actor)

    def _undo(self, decision_id: int, actor: str) -> None:
        store = self.store
        decision = store.decision(decision_id)
        cluster_id = store.decision_cluster(decision_id)
        if decision is None or cluster_id is None:
            return
        reverse = UNDO_OF.get(Action(decision.action)) if decision.action != "dismiss" else None
        reason = f"undo of decision {decision_id}"
        undo_id = store.undo_of(decision_id)
        if undo_id is None:
            accounts = store.succeeded_accounts(decision_id) if reverse else []
            undo_id = store.record_decision(cluster_id, str(reverse) if reverse else "reopen", accounts, actor,
                                            reason=reason, status="approved" if reverse else "done",
                                            undoes=decision_id)
        undoing = store.decision(undo_id)
        if reverse is not None and undoing is not None and undoing.status in RUNNING:
            self.carry_out(undo_id, store.unsettled_accounts(undo_id, undoing.accounts), actor)
        store.finish_undo(decision_id, actor)

    def resume(self, decision_ids: Iterable[int]) -> list[int]:
        """Finish decisions the last run left half done; returns the ids of those it finished.

        Accounts whose action has an outcome are left as they are (a failure waits for Retry);
        those never tried or cut short are carried out, cut-short ones only if not already in effect.
        Undos resume after the decisions they create, so an undo is never carried out twice.
        """
        finished = []
        decisions = [d for d in (self.store.decision(i) for i in decision_ids) if d is not None]
        for decision in sorted(decisions, key=lambda d: d.status == "undoing"):
            current = self.store.decision(decision.id)
            if current is None or current.status not in INTERRUPTED:
                continue
            self.store.audit("decision_resumed", "chorus", cluster_id=self.store.decision_cluster(decision.id),
                             decision_id=decision.id, status=current.status)
            if current.status == "undoing":
                self.undo(decision.id, current.moderator)
            elif current.action in ("dismiss", "reopen"):
                self.store.set_decision_status(decision.id, "done", "chorus")
            else:
                self.carry_out(decision.id, self.store.unsettled_accounts(decision.id, current.accounts), "chorus")
            log.info("resumed decision %d (%s, was %s)", decision.id, current.action, current.status)
            finished.append(decision.id)
        return finished

    def interrupted(self) -> list[int]:
        """Decisions left half done: only meaningful before this process has started any of its own."""
        return [d.id for d in self.store.decisions_in_status(INTERRUPTED)]

    def stuck(self) -> list[int]:
        """Decisions left half done while this process kept running (a database write failed mid-way):
        half done at this call and the one before, and not being worked on by this process now."""
        interrupted = set(self.interrupted())
        with self._lock:
            stuck = sorted((interrupted & self._sighted) - self._busy)
            self._sighted = interrupted - self._busy
        return stuck
