"""Finishing decisions left half done: by a crash (found at start-up) or by a failed write while the bot
ran (found by the periodic job), carried on from where they stopped without repeating what is done."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from domain.decisions import INTERRUPTED, DecisionStatus
from service.decisions import Desk, carry_out, reverse
from storage import Store

log = logging.getLogger("chorus.enforce")


def interrupted(store: Store) -> list[int]:
    """Decisions left half done: only meaningful before this process has started any of its own."""
    return [d.id for d in store.decisions_in_status(INTERRUPTED)]


def stuck(desk: Desk) -> list[int]:
    """Decisions left half done while this process kept running (a database write failed mid-way):
    half done at this call and the one before, and not being worked on by this process now."""
    return desk.in_flight.stuck(set(interrupted(desk.store)))


def resume(desk: Desk, decision_ids: Iterable[int]) -> list[int]:
    """Finish decisions the last run left half done; returns the ids of those it finished.

    Accounts whose action has an outcome are left as they are (a failure waits for Retry);
    those never tried or cut short are carried out, cut-short ones only if not already in effect.
    Undos resume after the decisions they create, so an undo is never carried out twice.
    """
    store = desk.store
    finished = []
    decisions = [d for d in (store.decision(i) for i in decision_ids) if d is not None]
    for decision in sorted(decisions, key=lambda d: d.status == DecisionStatus.UNDOING):
        current = store.decision(decision.id)
        if current is None or current.status not in INTERRUPTED:
            continue
        store.audit("decision_resumed", "chorus", cluster_id=store.decision_cluster(decision.id),
                    decision_id=decision.id, status=current.status)
        if current.status == DecisionStatus.UNDOING:
            reverse(desk, decision.id, current.moderator)
        elif not current.action.on_platform:
            store.move_decision(decision.id, DecisionStatus.DONE, "chorus")
        else:
            carry_out(desk, decision.id, store.unsettled_accounts(decision.id, current.accounts), "chorus")
        log.info("resumed decision %d (%s, was %s)", decision.id, current.action, current.status)
        finished.append(decision.id)
    return finished
