"""The decision use cases called directly, as the console or a test would: no Slack anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.decisions import Action, ClusterStatus, DecisionStatus
from service import decisions
from service.decisions import Desk, Rules, Why
from storage import Store
from tests.conftest import RecordingEnforcer, seed_cluster


@pytest.fixture
def store(tmp_path: Path):
    store = Store.open(tmp_path / "chorus.db")
    yield store
    store.close()


@pytest.fixture
def changed() -> list[str]:
    """The clusters whose card the use cases said should show a new state, in order."""
    return []


@pytest.fixture
def desk(store: Store, changed: list[str]) -> Desk:
    return Desk(store, RecordingEnforcer(), Rules(two_person_threshold=2, undo_minutes=30), changed=changed.append)


def _cluster_status(store: Store, cluster_id: str) -> ClusterStatus:
    view = store.cluster_view(cluster_id)
    assert view is not None
    return view.status


def test_decide_carries_out_at_once_and_tells_which_card_changed(desk: Desk, store: Store,
                                                                   changed: list[str]) -> None:
    cid = seed_cluster(store, "d", 2)
    assert decisions.decide(desk, cid, "U1", Action.SUSPEND, ["d-a0", "d-a1"]) is None
    [decision] = store.decisions_for(cid)
    assert decision.status == DecisionStatus.DONE and _cluster_status(store, cid) == ClusterStatus.SUSPENDED
    assert desk.enforcer.done == [(Action.SUSPEND, "d-a0"), (Action.SUSPEND, "d-a1")]
    assert changed == [cid, cid]  # claimed, then carried out


def test_a_second_decision_is_refused_with_the_one_that_holds_the_cluster(desk: Desk, store: Store) -> None:
    cid = seed_cluster(store, "s", 2)
    decisions.decide(desk, cid, "U1", Action.DISMISS, ["s-a0", "s-a1"])
    refusal = decisions.decide(desk, cid, "U2", Action.SUSPEND, ["s-a0"])
    assert refusal is not None and refusal.why is Why.ALREADY_DECIDED and refusal.holder.moderator == "U1"
    assert desk.enforcer.done == []  # dismissing does nothing on the platform


def test_the_two_person_rule_and_its_refusals(desk: Desk, store: Store) -> None:
    cid = seed_cluster(store, "t", 3)
    assert decisions.decide(desk, cid, "U1", Action.SUSPEND, ["t-a0", "t-a1", "t-a2"]) is None
    [request] = store.decisions_for(cid)
    assert request.status == DecisionStatus.AWAITING_APPROVAL
    assert _cluster_status(store, cid) == ClusterStatus.AWAITING_APPROVAL and desk.enforcer.done == []
    assert decisions.approve(desk, request.id, "U1").why is Why.OWN_REQUEST
    assert decisions.approve(desk, request.id, "U2") is None
    assert store.decision(request.id).status == DecisionStatus.DONE and len(desk.enforcer.done) == 3
    assert decisions.cancel(desk, request.id, "U1").why is Why.NOT_AWAITING
    assert decisions.retry(desk, request.id, "U1").why is Why.NOTHING_TO_RETRY


def test_undo_reverses_the_decision_and_reopens_the_cluster(desk: Desk, store: Store) -> None:
    cid = seed_cluster(store, "u", 2)
    decisions.decide(desk, cid, "U1", Action.REQUIRE_VERIFICATION, ["u-a0", "u-a1"])
    [decision] = store.decisions_for(cid)
    assert decisions.undo(desk, decision.id, "U2") is None
    assert store.decision(decision.id).status == DecisionStatus.UNDONE
    assert _cluster_status(store, cid) == ClusterStatus.OPEN
    assert desk.enforcer.done[-2:] == [(Action.LIFT_VERIFICATION, "u-a0"), (Action.LIFT_VERIFICATION, "u-a1")]
    assert decisions.undo(desk, decision.id, "U2").why is Why.UNDO_EXPIRED  # undone: nothing left to undo


def test_storage_refuses_a_move_the_table_does_not_allow(desk: Desk, store: Store) -> None:
    cid = seed_cluster(store, "m", 2)
    decisions.decide(desk, cid, "U1", Action.DISMISS, ["m-a0"])
    [decision] = store.decisions_for(cid)
    assert not store.move_decision(decision.id, DecisionStatus.APPROVED, "U1")  # done cannot be approved
    with pytest.raises(ValueError, match="cannot move"):
        store.move_decision(decision.id, DecisionStatus.APPROVED, "U1", from_statuses=[DecisionStatus.DONE])
    with pytest.raises(ValueError, match="cannot start"):
        store.record_decision(cid, Action.SUSPEND, ["m-a0"], "U1", status=DecisionStatus.EXECUTING)


class DiskFull(RuntimeError):
    """Stands for the second write of a state change failing (a crash, a full disk)."""


def _fail_cluster_writes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(cluster_id: str, status: ClusterStatus) -> None:
        raise DiskFull("the cluster's status could not be written")

    monkeypatch.setattr(store, "set_cluster_status", fail)


def test_a_decision_and_its_cluster_status_land_together_or_not_at_all(desk: Desk, store: Store,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Claim, approve, cancel and finishing an undo each write the decision and the cluster in one
    transaction: when the second write fails, the first is rolled back, so the same click can be
    made again instead of leaving a cluster open beside a decision that holds it (or the reverse)."""
    cid = seed_cluster(store, "x", 3)
    accounts = ["x-a0", "x-a1", "x-a2"]
    with monkeypatch.context() as patch:
        _fail_cluster_writes(store, patch)
        with pytest.raises(DiskFull):
            decisions.decide(desk, cid, "U1", Action.SUSPEND, accounts)
    assert store.decisions_for(cid) == [] and _cluster_status(store, cid) == ClusterStatus.OPEN

    decisions.decide(desk, cid, "U1", Action.SUSPEND, accounts)  # waits for a second moderator
    [request] = store.decisions_for(cid)
    for step in (decisions.approve, decisions.cancel):
        with monkeypatch.context() as patch:
            _fail_cluster_writes(store, patch)
            with pytest.raises(DiskFull):
                step(desk, request.id, "U2")
        assert store.decision(request.id).status == DecisionStatus.AWAITING_APPROVAL
        assert _cluster_status(store, cid) == ClusterStatus.AWAITING_APPROVAL
    assert desk.enforcer.done == []

    assert decisions.approve(desk, request.id, "U2") is None
    with monkeypatch.context() as patch:
        _fail_cluster_writes(store, patch)
        with pytest.raises(DiskFull):
            decisions.undo(desk, request.id, "U1")
    assert store.decision(request.id).status == DecisionStatus.UNDOING  # resumed by recovery, not lost
    assert _cluster_status(store, cid) == ClusterStatus.SUSPENDED
    decisions.reverse(desk, request.id, "U1")
    assert store.decision(request.id).status == DecisionStatus.UNDONE
    assert _cluster_status(store, cid) == ClusterStatus.OPEN
    assert [action for action, _ in desk.enforcer.done].count(Action.UNSUSPEND) == 3  # reversed once each


def test_one_decision_giving_accounts_different_actions_is_carried_out_and_undone_per_account(
        desk: Desk, store: Store) -> None:
    cid = seed_cluster(store, "m", 4)
    plan = {"m-a0": Action.REQUIRE_VERIFICATION, "m-a1": Action.SUSPEND, "m-a2": Action.REQUIRE_VERIFICATION}
    assert decisions.decide_each(desk, cid, "U1", plan, "mixed", "spam") is None
    [decision] = store.decisions_for(cid)
    assert decision.action == Action.SUSPEND and decision.groups() == {
        Action.SUSPEND: ["m-a1"], Action.REQUIRE_VERIFICATION: ["m-a0", "m-a2"]}
    assert _cluster_status(store, cid) == ClusterStatus.SUSPENDED
    assert sorted(desk.enforcer.done) == sorted((action, account) for account, action in plan.items())
    assert decisions.undo(desk, decision.id, "U2") is None
    assert sorted(desk.enforcer.done[3:]) == sorted([(Action.UNSUSPEND, "m-a1"), (Action.LIFT_VERIFICATION, "m-a0"),
                                                     (Action.LIFT_VERIFICATION, "m-a2")])
    assert _cluster_status(store, cid) == ClusterStatus.OPEN


def test_the_two_person_rule_counts_only_the_accounts_to_suspend(desk: Desk, store: Store) -> None:
    cid = seed_cluster(store, "w", 5)
    plan = {f"w-a{i}": Action.REQUIRE_VERIFICATION for i in range(4)} | {"w-a4": Action.SUSPEND}
    decisions.decide_each(desk, cid, "U1", plan)
    assert store.decisions_for(cid)[0].status == DecisionStatus.DONE  # 1 suspension, under the threshold of 2
