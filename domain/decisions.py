"""Decisions as the domain knows them: the actions, the statuses, and the one table of allowed moves.

A moderator decides on a cluster (suspend, limit, require verification, dismiss, or act on the remote domain
most of its accounts come from); a decision moves
through statuses as it is approved, carried out and perhaps undone, and while it is live it holds
its cluster, whose status follows from it. Storage refuses any move this table does not allow.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What a decision does: a moderator's choice on a card, or the undo of one."""

    SUSPEND = "suspend"
    REQUIRE_VERIFICATION = "require_verification"
    LIMIT = "limit"
    """Hidden from everyone who does not follow the account (Mastodon's `silence`); reversible."""
    DISMISS = "dismiss"
    DOMAIN_SUSPEND = "domain_suspend"
    """A block of the remote domain most of a cluster's accounts come from: nothing from there federates."""
    DOMAIN_LIMIT = "domain_limit"
    """A limit of that remote domain (Mastodon's domain block of severity `silence`)."""
    UNSUSPEND = "unsuspend"
    LIFT_VERIFICATION = "lift_verification"
    UNLIMIT = "unlimit"
    REOPEN = "reopen"
    DOMAIN_UNBLOCK = "domain_unblock"

    @property
    def on_platform(self) -> bool:
        """Whether the platform carries it out on each account (dismissing and reopening touch only Chorus)."""
        return self not in (Action.DISMISS, Action.REOPEN)

    @property
    def on_domain(self) -> bool:
        """Whether it acts on a remote domain (its decision's one "account" is the domain name)."""
        return self in (Action.DOMAIN_SUSPEND, Action.DOMAIN_LIMIT, Action.DOMAIN_UNBLOCK)


PRIMARY_ACTIONS = (Action.SUSPEND, Action.REQUIRE_VERIFICATION, Action.LIMIT, Action.DISMISS, Action.DOMAIN_SUSPEND,
                   Action.DOMAIN_LIMIT)
"""Decisions a moderator takes on a cluster from its card, strongest account action first; undos are not among them."""
ACCOUNT_ACTIONS = (Action.SUSPEND, Action.LIMIT, Action.REQUIRE_VERIFICATION)
"""What a team may offer to do to a cluster's accounts (`enforcement.actions`), in the order cards show them."""
DOMAIN_ACTIONS = (Action.DOMAIN_LIMIT, Action.DOMAIN_SUSPEND)
"""What a card offers for the remote domain most of its accounts come from."""
UNDO_OF: dict[Action, Action] = {
    Action.SUSPEND: Action.UNSUSPEND,
    Action.REQUIRE_VERIFICATION: Action.LIFT_VERIFICATION,
    Action.LIMIT: Action.UNLIMIT,
    Action.DISMISS: Action.REOPEN,
    Action.DOMAIN_SUSPEND: Action.DOMAIN_UNBLOCK,
    Action.DOMAIN_LIMIT: Action.DOMAIN_UNBLOCK,
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
    LIMITED = "limited"
    DISMISSED = "dismissed"


WAITING = (ClusterStatus.OPEN, ClusterStatus.AWAITING_APPROVAL)
"""Cluster statuses still waiting for moderators (a decision, or a second moderator's approval): the queue
App Home shows, and the clusters a moderator may claim."""

_HELD_AS = {Action.SUSPEND: ClusterStatus.SUSPENDED, Action.REQUIRE_VERIFICATION: ClusterStatus.VERIFICATION,
            Action.LIMIT: ClusterStatus.LIMITED, Action.DISMISS: ClusterStatus.DISMISSED,
            Action.DOMAIN_SUSPEND: ClusterStatus.SUSPENDED, Action.DOMAIN_LIMIT: ClusterStatus.LIMITED}


def cluster_status(action: Action | None, status: DecisionStatus | None) -> ClusterStatus:
    """The status of a cluster whose live decision is (`action`, `status`); open when none holds it."""
    if action not in _HELD_AS or status not in ACTIVE_STATUSES:
        return ClusterStatus.OPEN
    return ClusterStatus.AWAITING_APPROVAL if status is _S.AWAITING_APPROVAL else _HELD_AS[action]


def needs_approval(action: Action, accounts: int, threshold: int) -> bool:
    """The two-person rule: suspending more than `threshold` accounts at once, and any action on a whole remote
    domain, waits for a second moderator."""
    return action.on_domain or (action is Action.SUSPEND and accounts > threshold)


class AttemptStatus(StrEnum):
    """How one platform action on one account stands: under way (or cut short), succeeded, failed."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
