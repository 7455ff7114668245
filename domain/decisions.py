"""Decisions as the domain knows them: the actions, the statuses, and the one table of allowed moves.

A moderator decides on a cluster (suspend, require verification, dismiss); a decision moves
through statuses as it is approved, carried out and perhaps undone, and while it is live it holds
its cluster, whose status follows from it. Storage refuses any move this table does not allow.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What a decision does: a moderator's choice on a card, or the undo of one."""

    SUSPEND = "suspend"
    REQUIRE_VERIFICATION = "require_verification"
    DISMISS = "dismiss"
    UNSUSPEND = "unsuspend"
    LIFT_VERIFICATION = "lift_verification"
    REOPEN = "reopen"

    @property
    def on_platform(self) -> bool:
        """Whether the platform carries it out on each account (dismissing and reopening touch only Chorus)."""
        return self not in (Action.DISMISS, Action.REOPEN)


PRIMARY_ACTIONS = (Action.SUSPEND, Action.REQUIRE_VERIFICATION, Action.DISMISS)
"""Decisions a moderator takes on a cluster from its card; undos are not among them."""
UNDO_OF: dict[Action, Action] = {
    Action.SUSPEND: Action.UNSUSPEND,
    Action.REQUIRE_VERIFICATION: Action.LIFT_VERIFICATION,
    Action.DISMISS: Action.REOPEN,
}
"""The decision that reverses each primary one."""


class DecisionStatus(StrEnum):
    """Where a decision stands."""

    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    EXECUTING = "executing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNDOING = "undoing"
    UNDONE = "undone"


_S = DecisionStatus
MOVES: dict[DecisionStatus, frozenset[DecisionStatus]] = {
    _S.AWAITING_APPROVAL: frozenset({_S.APPROVED, _S.CANCELLED}),
    _S.APPROVED: frozenset({_S.EXECUTING, _S.DONE}),
    _S.EXECUTING: frozenset({_S.EXECUTING, _S.DONE, _S.FAILED}),  # a resumed or retried run starts again
    _S.FAILED: frozenset({_S.EXECUTING, _S.UNDOING}),
    _S.DONE: frozenset({_S.UNDOING}),
    _S.UNDOING: frozenset({_S.UNDONE}),
    _S.CANCELLED: frozenset(),
    _S.UNDONE: frozenset(),
}
"""The allowed moves: status -> the statuses it may go to. Nothing else changes a decision's status."""
FIRST_STATUSES = frozenset({_S.AWAITING_APPROVAL, _S.APPROVED, _S.DONE})
"""Statuses a decision is recorded in: waiting for a second moderator, ready to act, or (a reopen) done at once."""
ACTIVE_STATUSES = (_S.AWAITING_APPROVAL, _S.APPROVED, _S.EXECUTING, _S.DONE, _S.FAILED, _S.UNDOING)
"""Statuses in which a primary decision holds its cluster; 'cancelled' and 'undone' release it."""
RUNNING = (_S.APPROVED, _S.EXECUTING)
"""Statuses in which platform actions are (or are about to be) carried out."""
INTERRUPTED = (*RUNNING, _S.UNDOING)
"""Statuses a decision is found in at start-up only if the last run stopped in the middle of it."""
FINISHED = frozenset({_S.DONE, _S.FAILED, _S.UNDONE})
"""Statuses that stamp a decision's finishing time (the undo window counts from it)."""


def sources_of(status: DecisionStatus) -> tuple[DecisionStatus, ...]:
    """The statuses a decision may move to `status` from, by the table."""
    return tuple(source for source, targets in MOVES.items() if status in targets)


class ClusterStatus(StrEnum):
    """Where a cluster stands: waiting for a decision, or held by one."""

    OPEN = "open"
    AWAITING_APPROVAL = "awaiting_approval"
    SUSPENDED = "suspended"
    VERIFICATION = "verification"
    DISMISSED = "dismissed"


WAITING = (ClusterStatus.OPEN, ClusterStatus.AWAITING_APPROVAL)
"""Cluster statuses still waiting for moderators (a decision, or a second moderator's approval): the queue
App Home shows, and the clusters a moderator may claim."""

_HELD_AS = {Action.SUSPEND: ClusterStatus.SUSPENDED, Action.REQUIRE_VERIFICATION: ClusterStatus.VERIFICATION,
            Action.DISMISS: ClusterStatus.DISMISSED}


def cluster_status(action: Action | None, status: DecisionStatus | None) -> ClusterStatus:
    """The status of a cluster whose live decision is (`action`, `status`); open when none holds it."""
    if action not in _HELD_AS or status not in ACTIVE_STATUSES:
        return ClusterStatus.OPEN
    return ClusterStatus.AWAITING_APPROVAL if status is _S.AWAITING_APPROVAL else _HELD_AS[action]


def needs_approval(action: Action, accounts: int, threshold: int) -> bool:
    """The two-person rule: suspending more than `threshold` accounts at once waits for a second moderator."""
    return action is Action.SUSPEND and accounts > threshold


class AttemptStatus(StrEnum):
    """How one platform action on one account stands: under way (or cut short), succeeded, failed."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
