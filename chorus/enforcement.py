"""Carry out a decision on the platform: one action per account, each claimed, done and audited once.

Each (decision, action, account) has an idempotency key. The action is claimed in storage
before the platform call and finished after it, so a crash in between leaves a `pending`
action that `resume_pending` completes on restart, and a success is never repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from platforms.base import Action, ActionResult, Enforcer
from storage import Store

log = logging.getLogger("chorus.enforce")


def idempotency_key(decision_id: int, action: Action, account_id: str) -> str:
    """The key that makes one account's action within one decision happen at most once."""
    return f"d{decision_id}:{action}:{account_id}"


def _act_once(store: Store, enforcer: Enforcer, decision_id: int, action: Action, account_id: str,
              reason: str, actor: str) -> ActionResult:
    key = idempotency_key(decision_id, action, account_id)
    if not store.claim_action(key, decision_id, account_id, str(action)):
        return ActionResult(account_id, action, ok=True, detail="already done")
    try:
        result = enforcer.act(action, account_id, reason, key)
    except Exception as error:  # a platform failure must reach the card and the audit log, not kill the bot
        log.exception("%s on %s failed", action, account_id)
        result = ActionResult(account_id, action, ok=False, detail=f"{type(error).__name__}: {error}")
    store.finish_action(key, result.ok, result.detail, actor)
    return result


def carry_out(store: Store, enforcer: Enforcer, decision_id: int, action: Action, account_ids: Sequence[str],
              reason: str, actor: str) -> list[ActionResult]:
    """Act on every account of a decision and mark the decision done, or failed if any account failed."""
    store.set_decision_status(decision_id, "executing", actor)
    results = [_act_once(store, enforcer, decision_id, action, account, reason, actor) for account in account_ids]
    store.set_decision_status(decision_id, "done" if all(r.ok for r in results) else "failed", actor)
    return results


def resume_pending(store: Store, enforcer: Enforcer) -> list[ActionResult]:
    """Finish actions a crash left claimed but unrecorded; the enforcer's key check stops repeats."""
    results = []
    for row in store.actions_in_status("pending"):
        decision = store.decision(row["decision_id"])
        results.append(_act_once(store, enforcer, row["decision_id"], Action(row["action"]), row["account_id"],
                                 decision.reason if decision else "", "chorus"))
    return results
