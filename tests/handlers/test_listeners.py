"""Each Slack listener called as a plain function with a fake `ack` and client: what it acknowledges,
what it asks the decision use cases to do, and what it tells the moderator. The same listeners are
driven over signed HTTP in the scenario tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.decisions import Action, DecisionStatus
from handlers import ids
from handlers.actions import act_on_whole_cluster, approve_decision, open_review
from handlers.commands import chorus_command
from handlers.context import Chorus
from handlers.middleware import require_moderator
from handlers.moderators import Moderators
from handlers.views import submit_review
from service.config import SlackConfig
from service.decisions import Desk, Rules
from storage import Store
from tests.conftest import RecordingEnforcer, seed_cluster


class FakeAck:
    """Records each acknowledgement and what the store held at that moment."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[dict[str, Any]] = []
        self.decisions_at_ack: list[int] = []

    def __call__(self, **reply: Any) -> None:
        self.calls.append(reply)
        self.decisions_at_ack.append(self.store.count("decisions"))


class FakeClient:
    """Records the Web API calls a listener makes."""

    def __init__(self) -> None:
        self.ephemeral: list[dict[str, Any]] = []
        self.opened: list[dict[str, Any]] = []

    def chat_postEphemeral(self, **params: Any) -> None:
        self.ephemeral.append(params)

    def views_open(self, **params: Any) -> None:
        self.opened.append(params)


@pytest.fixture
def chorus(tmp_path: Path) -> Iterator[Chorus]:
    store = Store.open(tmp_path / "chorus.db")
    settings = SlackConfig(channel="CMOD", moderators=["UMOD1", "UMOD2"], two_person_threshold=2)
    desk = Desk(store, RecordingEnforcer(), Rules(settings.two_person_threshold, settings.undo_minutes))
    yield Chorus(store, desk, settings, Moderators(settings.moderators, "", client=None))  # type: ignore[arg-type]
    store.close()


def _carded(chorus: Chorus, prefix: str, accounts: int) -> str:
    """A cluster whose card was posted to CMOD, so replies about it have a channel."""
    cid = seed_cluster(chorus.store, prefix, accounts)
    chorus.store.mark_notified(cid, "CMOD", f"17000000{len(prefix)}.000100")
    return cid


def _context(chorus: Chorus, cluster_id: str, user: str = "UMOD1", decision_id: int | None = None) -> dict:
    cluster = chorus.store.cluster_view(cluster_id)
    return {"chorus": chorus, "cluster": cluster, "user_id": user, "decision_id": decision_id}


def test_a_whole_cluster_button_acknowledges_before_deciding(chorus: Chorus) -> None:
    cid = _carded(chorus, "w", 2)
    ack, client = FakeAck(chorus.store), FakeClient()
    act_on_whole_cluster(ack, {"actions": [{"action_id": ids.SUSPEND_ALL}]}, _context(chorus, cid), client)
    assert ack.decisions_at_ack == [0]
    [decision] = chorus.store.decisions_for(cid)
    assert decision.action == Action.SUSPEND and decision.status == DecisionStatus.DONE
    assert chorus.desk.enforcer.done == [(Action.SUSPEND, "w-a0"), (Action.SUSPEND, "w-a1")]
    assert client.ephemeral == []


def test_the_requester_cannot_approve_and_is_told_so(chorus: Chorus) -> None:
    cid = _carded(chorus, "r", 3)
    act_on_whole_cluster(FakeAck(chorus.store), {"actions": [{"action_id": ids.SUSPEND_ALL}]},
                         _context(chorus, cid), FakeClient())
    [request] = chorus.store.decisions_for(cid)
    client = FakeClient()
    approve_decision(FakeAck(chorus.store), _context(chorus, cid, "UMOD1", request.id), client)
    [note] = client.ephemeral
    assert note["user"] == "UMOD1" and "another moderator has to approve" in note["text"]
    assert chorus.store.decision(request.id).status == DecisionStatus.AWAITING_APPROVAL


def test_review_opens_the_modal_only_while_the_cluster_is_open(chorus: Chorus) -> None:
    cid = _carded(chorus, "o", 2)
    client = FakeClient()
    open_review(FakeAck(chorus.store), {"trigger_id": "T1"}, _context(chorus, cid), client)
    [opened] = client.opened
    assert opened["trigger_id"] == "T1" and opened["view"].callback_id == ids.REVIEW_MODAL
    act_on_whole_cluster(FakeAck(chorus.store), {"actions": [{"action_id": ids.DISMISS}]},
                         _context(chorus, cid), FakeClient())
    open_review(FakeAck(chorus.store), {"trigger_id": "T2"}, _context(chorus, cid, "UMOD2"), client)
    assert len(client.opened) == 1 and "already handled by <@UMOD1>" in client.ephemeral[0]["text"]


def test_a_review_naming_other_accounts_is_refused_in_the_modal(chorus: Chorus) -> None:
    cid = _carded(chorus, "v", 2)
    state = {f"{ids.ACCOUNTS_BLOCK_PREFIX}0": {ids.ACCOUNTS_ACTION: {"selected_options": [{"value": "elsewhere"}]}},
             f"{ids.GROUP_ACTION_PREFIX}0": {ids.ACTION_CHOICE: {"selected_option": {"value": Action.SUSPEND}}},
             ids.POLICY_BLOCK: {ids.POLICY_SELECT: {"selected_option": {"value": "spam"}}}}
    ack = FakeAck(chorus.store)
    submit_review(ack, {"id": "V1", "state": {"values": state}}, _context(chorus, cid), FakeClient())
    assert ack.calls == [{"response_action": "errors",
                          "errors": {f"{ids.ACCOUNTS_BLOCK_PREFIX}0": "The selection does not match this cluster."}}]
    assert chorus.store.decisions_for(cid) == []


def test_only_moderators_pass_the_guard_and_refusals_are_audited(chorus: Chorus) -> None:
    body = {"user": {"id": "UOTHER"}, "channel": {"id": "CMOD"}, "actions": [{"action_id": ids.DISMISS}]}
    context: dict[str, Any] = {"chorus": chorus}
    passed: list[bool] = []
    client = FakeClient()
    require_moderator(FakeAck(chorus.store), body, client, context, lambda: passed.append(True))
    assert passed == [] and client.ephemeral[0]["user"] == "UOTHER"
    assert chorus.store.audit_entries()[-1].event == "decision_refused"
    require_moderator(FakeAck(chorus.store), {**body, "user": {"id": "UMOD2"}}, client, context,
                      lambda: passed.append(True))
    assert passed == [True] and context["user_id"] == "UMOD2"


def test_the_slash_command_answers_in_the_acknowledgement(chorus: Chorus) -> None:
    ack = FakeAck(chorus.store)
    chorus_command(ack, {"user_id": "UOTHER", "text": "help"}, {"chorus": chorus})
    chorus_command(ack, {"user_id": "UMOD1", "text": "help"}, {"chorus": chorus})
    refused, answered = ack.calls
    assert "Only Chorus moderators" in refused["text"] and "/chorus lookup" in answered["text"]
