"""The claim use case: a moderator takes a waiting cluster so two do not work on it at once.

A claim is advisory (everyone still sees the card's buttons) and can be taken over, but only from the
holder the claimant saw: a Claim pressed on an unclaimed card loses to one pressed a moment earlier,
and is told who won, rather than silently taking it. Every claim, take-over and refusal is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.decisions import WAITING
from service.decisions import Desk


class ClaimOutcome(StrEnum):
    """What a claim did."""

    CLAIMED = "claimed"
    TAKEN_OVER = "taken_over"
    ALREADY_YOURS = "already_yours"
    HELD = "held"
    """Someone other than the holder the claimant saw holds it now (they lost a race): nothing changed."""
    CLOSED = "closed"
    """The cluster is decided (or unknown): there is nothing to claim."""


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """The outcome, who holds the cluster afterwards, and who held it before."""

    outcome: ClaimOutcome
    holder: str | None
    previous: str | None = None

    @property
    def changed(self) -> bool:
        return self.outcome in (ClaimOutcome.CLAIMED, ClaimOutcome.TAKEN_OVER)


def claim(desk: Desk, cluster_id: str, moderator: str, expected_holder: str | None = None) -> ClaimResult:
    """Give a waiting cluster to `moderator` if `expected_holder` (None: nobody) holds it; one transaction, audited."""
    store = desk.store
    with store.atomic():
        current = store.claim_of(cluster_id)
        holder = current.moderator if current else None
        if store.cluster_status(cluster_id) not in WAITING:
            result = ClaimResult(ClaimOutcome.CLOSED, holder)
        elif holder == moderator:
            result = ClaimResult(ClaimOutcome.ALREADY_YOURS, holder)
        elif holder != expected_holder or not store.swap_claim(cluster_id, holder, moderator):
            result = ClaimResult(ClaimOutcome.HELD, holder)
        else:
            result = ClaimResult(ClaimOutcome.TAKEN_OVER if holder else ClaimOutcome.CLAIMED, moderator, holder)
        if result.changed:
            store.audit("cluster_" + result.outcome, moderator, cluster_id=cluster_id, previous=holder)
        elif result.outcome is not ClaimOutcome.ALREADY_YOURS:
            store.audit("claim_refused", moderator, cluster_id=cluster_id, why=result.outcome, holder=holder,
                        expected=expected_holder)
    if result.changed:
        desk.changed(cluster_id)
    return result
