"""The table of decision moves and the rules read from it."""

from __future__ import annotations

from domain.decisions import (
    ACTIVE_STATUSES,
    FIRST_STATUSES,
    MOVES,
    UNDO_OF,
    Action,
    ClusterStatus,
    DecisionStatus,
    cluster_status,
    needs_approval,
    sources_of,
)


def test_every_status_is_reachable_from_where_a_decision_starts() -> None:
    reached, frontier = set(FIRST_STATUSES), list(FIRST_STATUSES)
    while frontier:
        for target in MOVES[frontier.pop()] - reached:
            reached.add(target)
            frontier.append(target)
    assert reached == set(DecisionStatus) and set(MOVES) == set(DecisionStatus)


def test_only_an_undo_or_a_cancel_releases_a_cluster() -> None:
    released = set(DecisionStatus) - set(ACTIVE_STATUSES)
    assert released == {DecisionStatus.CANCELLED, DecisionStatus.UNDONE}
    assert all(not MOVES[status] for status in released)  # final
    assert sources_of(DecisionStatus.UNDONE) == (DecisionStatus.UNDOING,)
    assert sources_of(DecisionStatus.CANCELLED) == (DecisionStatus.AWAITING_APPROVAL,)


def test_a_cluster_takes_the_status_of_the_decision_that_holds_it() -> None:
    assert cluster_status(Action.SUSPEND, DecisionStatus.AWAITING_APPROVAL) == ClusterStatus.AWAITING_APPROVAL
    assert cluster_status(Action.SUSPEND, DecisionStatus.FAILED) == ClusterStatus.SUSPENDED
    assert cluster_status(Action.REQUIRE_VERIFICATION, DecisionStatus.DONE) == ClusterStatus.VERIFICATION
    assert cluster_status(Action.DISMISS, DecisionStatus.APPROVED) == ClusterStatus.DISMISSED
    assert cluster_status(Action.SUSPEND, DecisionStatus.UNDONE) == ClusterStatus.OPEN
    assert cluster_status(None, None) == ClusterStatus.OPEN


def test_undos_and_the_two_person_rule() -> None:
    assert {action.on_platform for action in UNDO_OF} == {True, False}
    assert not UNDO_OF[Action.DISMISS].on_platform
    assert needs_approval(Action.SUSPEND, 26, threshold=25) and not needs_approval(Action.SUSPEND, 25, threshold=25)
    assert not needs_approval(Action.REQUIRE_VERIFICATION, 1000, threshold=25)
