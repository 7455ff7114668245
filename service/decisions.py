"""The decision use cases: decide, approve, cancel, retry, carry out and undo, one function each.

Each loads what it needs, moves the decision as `domain.decisions.MOVES` allows, and writes a move
together with its cluster's new status in one transaction. None knows of Slack: a refusal comes
back as a value for the caller to word, and `Desk.changed` hears which cluster's card should show a
new state. Platform actions are claimed in storage before the call and finished after it, under an
idempotency key (decision, action, account), so a success is never repeated and a crash leaves a
pending action; before such an action (or a failed one) is sent again the platform is asked whether
it already holds (`platforms.base.Reconciling`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from domain.decisions import (
    ACCOUNT_ACTIONS,
    PRIMARY_ACTIONS,
    RUNNING,
    UNDO_OF,
    Action,
    AttemptStatus,
    ClusterStatus,
    DecisionStatus,
    cluster_status,
    needs_approval,
)
from domain.views import BatchKind, DecisionView
from platforms.base import ActionResult, Case, Enforcer, act, in_effect, reads_state
from service.fingerprints import remember_campaign
from service.inflight import InFlight
from storage import Store

log = logging.getLogger("chorus.enforce")


class Why(StrEnum):
    """Why a use case did nothing."""

    ALREADY_DECIDED = "already_decided"
    """Another decision holds the cluster (or got there first), or the request was already handled."""
    OWN_REQUEST = "own_request"
    """The moderator who asked for a decision cannot approve it."""
    NOT_AWAITING = "not_awaiting"
    """The request to cancel was already approved or withdrawn."""
    NOTHING_TO_RETRY = "nothing_to_retry"
    """The decision has no failed actions, or a retry is under way."""
    UNDO_EXPIRED = "undo_expired"
    """The decision is past its undo window (or not carried out)."""
    ALREADY_UNDOING = "already_undoing"
    """Someone else is undoing the decision."""
    CLUSTER_OPEN = "cluster_open"
    """Late accounts' buttons were pressed after the cluster's decision was undone: decide on the card."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A use case that did nothing, why, and (when another decision holds the cluster) which one."""

    why: Why
    holder: DecisionView | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings decisions follow: the two-person threshold, how long Undo is offered, whether decisions are
    dry runs (recorded, stamped and audited, never sent to the platform), and how long a suspended campaign's
    fingerprints are remembered (0: not at all)."""

    two_person_threshold: int
    undo_minutes: float
    dry_run: bool = False
    fingerprint_days: float = 0.0


def _nobody(cluster_id: str) -> None:
    """The default listener for card changes: no card to update."""


@dataclass
class Desk:
    """What the use cases work with: storage, the platform's enforcer, the rules, and who hears that a
    cluster's card should show a new state (the Slack side updates the card; tests may record it)."""

    store: Store
    enforcer: Enforcer
    rules: Rules
    changed: Callable[[str], object] = _nobody
    in_flight: InFlight = field(default_factory=InFlight)


def idempotency_key(decision_id: int, action: Action, account_id: str) -> str:
    """The key that makes one account's action within one decision happen at most once."""
    return f"d{decision_id}:{action}:{account_id}"


def decide(desk: Desk, cluster_id: str, moderator: str, action: Action, accounts: Sequence[str],
           reason: str = "", policy: str = "", plan: Mapping[str, Action] | None = None,
           late_batch: int | None = None) -> Refusal | None:
    """Record a decision if it is the first on the cluster, then carry it out (or wait for a second moderator).

    `plan` gives some accounts another action than `action` (see `decide_each`); a decision on a `late_batch`
    is the first on that batch and leaves the cluster as its own decision holds it (see `decide_latecomers`).
    """
    store = desk.store
    suspended = sum((plan or {}).get(account, action) is Action.SUSPEND for account in accounts)
    waits = needs_approval(action, suspended, desk.rules.two_person_threshold)
    status = DecisionStatus.AWAITING_APPROVAL if waits else DecisionStatus.APPROVED
    with store.atomic():
        decision_id = store.claim_decision(cluster_id, action, accounts, moderator, reason, policy, status, plan,
                                           late_batch, desk.rules.dry_run)
        if decision_id is not None and late_batch is None:
            store.set_cluster_status(cluster_id, cluster_status(action, status))
    if decision_id is None:
        view = store.cluster_view(cluster_id)
        holder = view.late_decision(late_batch) if view and late_batch else store.active_decision(cluster_id)
        return Refusal(Why.ALREADY_DECIDED, holder)
    desk.changed(cluster_id)
    if not waits:
        _execute(desk, decision_id, moderator)
    return None


def decide_each(desk: Desk, cluster_id: str, moderator: str, plan: Mapping[str, Action], reason: str = "",
                policy: str = "") -> Refusal | None:
    """One decision giving each account its own action (the review modal: suspend some, verify others).

    Its headline action, which the cluster's status follows, is the strongest in the plan (suspend first).
    """
    headline = min(set(plan.values()), key=PRIMARY_ACTIONS.index)
    return decide(desk, cluster_id, moderator, headline, list(plan), reason, policy, plan)


BATCH_REASON = {BatchKind.LATE: "joined after the decision", BatchKind.KNOWN_CAMPAIGN: "posted a known campaign's "
                "content", BatchKind.SIBLINGS: "shares sign-up details with the cluster's accounts"}
"""The reason a decision from a batch's thread buttons records."""


def decide_latecomers(desk: Desk, cluster_id: str, batch_id: int, moderator: str, action: Action) -> Refusal | None:
    """Decide on a batch of accounts the cluster's decision does not cover, from the buttons in its thread (they
    joined after it was decided, posted a known campaign's content, or are its siblings): the first such decision
    on the batch wins, the two-person rule holds, and the cluster keeps its own decision."""
    store = desk.store
    batch = store.late_batch(batch_id)
    if batch is None or batch.cluster_id != cluster_id:
        return Refusal(Why.ALREADY_DECIDED)
    if batch.kind is BatchKind.LATE and store.active_decision(cluster_id) is None:
        return Refusal(Why.CLUSTER_OPEN)
    return decide(desk, cluster_id, moderator, action, batch.accounts, reason=BATCH_REASON[batch.kind],
                  late_batch=batch_id)


def approve(desk: Desk, decision_id: int, approver: str) -> Refusal | None:
    """A second moderator's approval, then the decision is carried out; the one who asked cannot approve."""
    store = desk.store
    decision = store.decision(decision_id)
    cluster_id = store.decision_cluster(decision_id)
    if decision is None or cluster_id is None:
        return Refusal(Why.ALREADY_DECIDED)
    if decision.moderator == approver and decision.status == DecisionStatus.AWAITING_APPROVAL:
        return Refusal(Why.OWN_REQUEST)
    with store.atomic():
        approved = store.move_decision(decision_id, DecisionStatus.APPROVED, approver, approved_by=approver)
        if approved and decision.late_batch is None:
            store.set_cluster_status(cluster_id, cluster_status(decision.action, DecisionStatus.APPROVED))
    if not approved:
        return Refusal(Why.ALREADY_DECIDED, decision)
    desk.changed(cluster_id)
    _execute(desk, decision_id, approver)
    return None


def cancel(desk: Desk, decision_id: int, actor: str) -> Refusal | None:
    """Withdraw a request still waiting for approval, reopening its cluster."""
    store = desk.store
    decision = store.decision(decision_id)
    cluster_id = store.decision_cluster(decision_id)
    if decision is None or cluster_id is None:
        return Refusal(Why.NOT_AWAITING)
    with store.atomic():
        cancelled = store.move_decision(decision_id, DecisionStatus.CANCELLED, actor)
        if cancelled and decision.late_batch is None:
            store.set_cluster_status(cluster_id, ClusterStatus.OPEN)
    if not cancelled:
        return Refusal(Why.NOT_AWAITING)
    desk.changed(cluster_id)
    return None


def retry(desk: Desk, decision_id: int, actor: str) -> Refusal | None:
    """Run a decision's failed platform actions again; the idempotency keys stop repeats."""
    store = desk.store
    decision = store.decision(decision_id)
    cluster_id = store.decision_cluster(decision_id)
    if decision is None or cluster_id is None or not store.move_decision(
            decision_id, DecisionStatus.EXECUTING, actor, from_statuses=[DecisionStatus.FAILED]):
        return Refusal(Why.NOTHING_TO_RETRY)
    desk.changed(cluster_id)
    _execute(desk, decision_id, actor, only=list(decision.failures), resend_unknown=True)
    return None


def _execute(desk: Desk, decision_id: int, actor: str, only: Sequence[str] | None = None,
             resend_unknown: bool = False) -> None:
    """Carry out an approved decision (or just its `only` accounts); a dismissal is done at once."""
    store = desk.store
    decision = store.decision(decision_id)
    cluster_id = store.decision_cluster(decision_id)
    if decision is None or cluster_id is None:
        return
    if not decision.action.on_platform:
        store.move_decision(decision_id, DecisionStatus.DONE, actor)
    else:
        results = carry_out(desk, decision_id, decision.accounts if only is None else only, actor, resend_unknown)
        log.info("decision %d: %s on %d accounts, %d failed", decision_id, decision.action, len(results),
                 sum(not r.ok for r in results))
    desk.changed(cluster_id)


def carry_out(desk: Desk, decision_id: int, accounts: Sequence[str], actor: str,
              resend_unknown: bool = False) -> list[ActionResult]:
    """Act on `accounts` for a decision, then mark it done, or failed if any of its accounts failed.

    An account whose earlier attempt may have reached the platform, and whose state the platform could
    not read back, is not acted on again unless `resend_unknown` (a moderator's Retry): it fails as
    "state unknown", and the card offers Retry.
    """
    store = desk.store
    decision = store.decision(decision_id)
    if decision is None:
        return []
    with desk.in_flight.claim(decision_id) as free:
        if not free:
            return []  # already being carried out in this process; the claims would stop repeats anyway
        store.move_decision(decision_id, DecisionStatus.EXECUTING, actor)
        case = _case(store, decision_id, decision.policy, accounts)
        results = [_act_once(desk, decision_id, decision.action_for(account), account, decision.reason, actor, case,
                             resend_unknown, decision.dry_run)
                   for account in accounts]
        failed = store.decision(decision_id).failures  # earlier failures count too
        with store.atomic():
            done = store.move_decision(decision_id, DecisionStatus.FAILED if failed else DecisionStatus.DONE, actor)
            if done and not failed and case is not None and suspends_cluster(decision):
                remember_campaign(store, case.cluster_id, desk.rules.fingerprint_days)
    return results


def suspends_cluster(decision: DecisionView) -> bool:
    """Whether a decision suspends accounts of the cluster itself (or its remote domain): its content is then a
    known campaign's. Decisions on a batch in the thread are about other accounts."""
    return decision.late_batch is None and any(
        action in (Action.SUSPEND, Action.DOMAIN_SUSPEND) for action in decision.groups())


def _case(store: Store, decision_id: int, policy: str, accounts: Sequence[str]) -> Case | None:
    """The cluster a decision is taken on, the reasons its card gives and the open report each account's action is
    filed under, for platforms that log or resolve them."""
    cluster_id = store.decision_cluster(decision_id)
    if cluster_id is None:
        return None
    view = store.cluster_view(cluster_id)
    return Case(cluster_id, tuple(view.reasons) if view is not None else (), policy,
                store.newest_open_reports(accounts))


UNKNOWN_STATE = "state unknown: not sent again, as it may have reached the platform and cannot be read back"
"""The card's note on an account whose earlier attempt was cut short and whose state could not be read."""


DRY_RUN_DETAIL = "dry run: not sent to the platform"
"""What a dry-run decision records for each account it would have acted on."""


def _act_once(desk: Desk, decision_id: int, action: Action, account_id: str, reason: str,
              actor: str, case: Case | None = None, resend_unknown: bool = False,
              dry_run: bool = False) -> ActionResult:
    store = desk.store
    key = idempotency_key(decision_id, action, account_id)
    earlier = store.claim_action(key, decision_id, account_id, action)
    if earlier is AttemptStatus.OK:
        return ActionResult(account_id, action, ok=True, detail="already done")
    if dry_run:
        store.finish_action(key, True, DRY_RUN_DETAIL, actor)
        return ActionResult(account_id, action, ok=True, detail=DRY_RUN_DETAIL)
    held = in_effect(desk.enforcer, action, account_id) if earlier is not None else None
    if held:
        result = ActionResult(account_id, action, ok=True,
                              detail=f"already in effect on the platform after an interrupted {earlier} attempt")
        store.finish_action(key, True, result.detail, actor)
        return result
    if earlier is not None and held is None and reads_state(desk.enforcer) and not resend_unknown:
        log.warning("%s on %s: %s (its %s attempt)", action, account_id, UNKNOWN_STATE, earlier)
        store.finish_action(key, False, UNKNOWN_STATE, actor)
        return ActionResult(account_id, action, ok=False, detail=UNKNOWN_STATE, retryable=True)
    try:
        result = act(desk.enforcer, action, account_id, reason, key, case)
    except Exception as error:  # a platform failure must reach the card and the audit log, not kill the bot
        log.exception("%s on %s failed", action, account_id)
        result = ActionResult(account_id, action, ok=False, detail=f"{type(error).__name__}: {error}")
    with store.atomic():
        store.finish_action(key, result.ok, result.detail, actor)
        if result.ok and action in ACCOUNT_ACTIONS and case is not None and account_id in case.reports:
            store.resolve_open_reports([account_id])  # the platform resolves them with the action
    return result


def undo(desk: Desk, decision_id: int, actor: str) -> Refusal | None:
    """Reverse a carried-out decision within the undo window and reopen its cluster."""
    store = desk.store
    decision = store.decision(decision_id)
    cluster_id = store.decision_cluster(decision_id)
    if decision is None or cluster_id is None or not decision.undo_open(store.clock(), desk.rules.undo_minutes):
        if cluster_id is not None:
            desk.changed(cluster_id)  # the card stops offering Undo
        return Refusal(Why.UNDO_EXPIRED)
    if not store.move_decision(decision_id, DecisionStatus.UNDOING, actor):
        return Refusal(Why.ALREADY_UNDOING)
    desk.changed(cluster_id)
    reverse(desk, decision_id, actor)
    desk.changed(cluster_id)
    return None


def reverse(desk: Desk, decision_id: int, actor: str) -> None:
    """Carry out the undo of a decision whose undo was claimed, and reopen its cluster; resumable after a crash.

    The undo is itself a decision (unsuspend, lift verification, or reopen for a dismissal), recorded
    once, so a resumed undo finishes the one recorded rather than starting another.
    """
    store = desk.store
    with desk.in_flight.claim(decision_id) as free:
        decision = store.decision(decision_id)
        cluster_id = store.decision_cluster(decision_id)
        if not free or decision is None or cluster_id is None:
            return
        opposite = UNDO_OF[decision.action]
        undo_id = store.undo_of(decision_id)
        if undo_id is None:
            succeeded = store.succeeded_accounts(decision_id) if opposite.on_platform else []
            undo_id = store.record_decision(
                cluster_id, opposite, succeeded, actor, reason=f"undo of decision {decision_id}",
                status=DecisionStatus.APPROVED if opposite.on_platform else DecisionStatus.DONE, undoes=decision_id,
                plan={account: UNDO_OF[decision.action_for(account)] for account in succeeded},
                dry_run=decision.dry_run)
        undoing = store.decision(undo_id)
        if opposite.on_platform and undoing is not None and undoing.status in RUNNING:
            carry_out(desk, undo_id, store.unsettled_accounts(undo_id, undoing.accounts), actor)
        with store.atomic():
            if store.move_decision(decision_id, DecisionStatus.UNDONE, actor) and decision.late_batch is None:
                store.set_cluster_status(cluster_id, ClusterStatus.OPEN)
                if suspends_cluster(decision):
                    store.forget_fingerprints(cluster_id, actor)  # no longer a known campaign
