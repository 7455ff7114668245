"""Decisions end to end: signed button presses and modal submissions over HTTP, against the fake Slack."""

from __future__ import annotations

import json
import threading
import time

from handlers import ids
from tests.conftest import seed_cluster
from tests.slack_fakes import wait_for


def _stamped(harness, ts, phrase):
    def stamped():
        return [c for c in harness.fake.of("chat.update") if c.params["ts"] == ts and phrase in json.dumps(c.params)]
    return stamped


def _first_decision_is(harness, cid, status):
    def reached():
        decisions = harness.store.decisions_for(cid)
        return bool(decisions) and decisions[0].status == status
    return reached


def _action_ids(params):
    return {e.get("action_id") for b in params["blocks"] if b["type"] == "actions" for e in b["elements"]}


def test_card_offers_confirmed_buttons_and_escapes_post_text(harness):
    cid = seed_cluster(harness.store, "e", 3, text="<!channel> free money & <@U999> says hi")
    harness.announce()
    [posted] = harness.fake.of("chat.postMessage")
    assert posted.params["channel"] == "CMOD"
    dumped = json.dumps(posted.params)
    assert "<!channel>" not in dumped and "<@U999>" not in dumped
    assert "&lt;!channel&gt; free money &amp; &lt;@U999&gt;" in dumped
    buttons = {e["action_id"]: e for b in posted.params["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert set(buttons) == set(ids.OPEN_CARD_BUTTONS)
    assert buttons[ids.SUSPEND_ALL]["style"] == "danger" and buttons[ids.SUSPEND_ALL]["confirm"]["style"] == "danger"
    assert "confirm" in buttons[ids.REQUIRE_VERIFICATION]
    assert cid in dumped


def test_suspend_all_is_acknowledged_carried_out_stamped_and_audited(harness):
    cid = seed_cluster(harness.store, "s", 4)
    harness.announce()
    ts = harness.card_ts(cid)
    started = time.monotonic()
    response = harness.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
    assert response.status_code == 200 and time.monotonic() - started < 3
    [final] = wait_for(_stamped(harness, ts, "Suspended 4 accounts"))
    assert "<@UMOD1>" in json.dumps(final.params)
    assert _action_ids(final.params) == {ids.UNDO}
    lines = harness.outbox_lines()
    assert sorted(line["account_id"] for line in lines) == [f"s-a{i}" for i in range(4)]
    assert {line["action"] for line in lines} == {"suspend"}
    [decision] = harness.store.decisions_for(cid)
    assert (decision.action, decision.moderator, decision.status) == ("suspend", "UMOD1", "done")
    assert harness.store.cluster_view(cid).status == "suspended"
    events = [entry.event for entry in harness.store.audit_entries()]
    assert events.count("action_ok") == 4 and "decision_recorded" in events and "decision_done" in events


def test_double_click_and_two_moderators_at_once_carry_out_one_decision(harness):
    cid = seed_cluster(harness.store, "d", 4)
    harness.announce()
    ts = harness.card_ts(cid)
    clicks = [threading.Thread(target=harness.slack.click, args=(action, cid, user, ts))
              for action, user in [(ids.SUSPEND_ALL, "UMOD1"), (ids.SUSPEND_ALL, "UMOD1"),
                                   (ids.REQUIRE_VERIFICATION, "UMOD2")]]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    notes = harness.fake.of
    refusals = wait_for(lambda: len(notes("chat.postEphemeral")) == 2 and notes("chat.postEphemeral"))
    assert all("already handled by <@" in c.params["text"] for c in refusals)
    wait_for(_first_decision_is(harness, cid, "done"))
    assert len(harness.store.decisions_for(cid)) == 1
    assert len(harness.outbox_lines()) == 4


def test_non_moderator_is_refused_and_group_members_may_act(harness):
    cid = seed_cluster(harness.store, "n", 3)
    harness.announce()
    ts = harness.card_ts(cid)
    assert harness.slack.click(ids.SUSPEND_ALL, cid, "URANDOM", ts).status_code == 200
    [refusal] = harness.fake.of("chat.postEphemeral")
    assert refusal.params["user"] == "URANDOM" and "Only Chorus moderators" in refusal.params["text"]
    assert harness.store.decisions_for(cid) == [] and harness.outbox_lines() == []
    assert harness.fake.of("usergroups.users.list")[0].params["usergroup"] == "SMODS"
    harness.slack.click(ids.DISMISS, cid, "UGROUPMOD", ts)
    wait_for(_stamped(harness, ts, "Dismissed"))
    assert harness.store.cluster_view(cid).status == "dismissed"


def test_tampered_button_value_is_refused(harness):
    cid = seed_cluster(harness.store, "t", 3)
    other = seed_cluster(harness.store, "u", 3, text="another campaign entirely")
    harness.announce()
    harness.slack.click(ids.SUSPEND_ALL, "c-ffffffffff", "UMOD1", harness.card_ts(cid))
    harness.slack.click(ids.SUSPEND_ALL, other, "UMOD1", harness.card_ts(cid))  # right cluster, wrong card
    harness.slack.click(ids.UNDO, f"{cid}:999", "UMOD1", harness.card_ts(cid))
    notes = harness.fake.of("chat.postEphemeral")
    assert len(notes) == 3 and all("does not match" in n.params["text"] for n in notes)
    assert harness.store.decisions_for(cid) == harness.store.decisions_for(other) == []


def test_two_person_rule_waits_for_a_different_moderator(harness):
    cid = seed_cluster(harness.store, "b", 8)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
    [request] = wait_for(_stamped(harness, ts, "second moderator must approve"))
    assert _action_ids(request.params) == {ids.APPROVE, ids.CANCEL_REQUEST}
    [decision] = harness.store.decisions_for(cid)
    assert decision.status == "awaiting_approval" and harness.outbox_lines() == []
    value = ids.button_value(cid, decision.id)
    harness.slack.click(ids.APPROVE, value, "UMOD1", ts)
    own = wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    assert "another moderator has to approve" in own[0].params["text"]
    assert harness.store.decision(decision.id).status == "awaiting_approval"
    harness.slack.click(ids.APPROVE, value, "UMOD2", ts)
    [final] = wait_for(_stamped(harness, ts, "Suspended 8 accounts"))
    assert "approved by <@UMOD2>" in json.dumps(final.params)
    assert len(harness.outbox_lines()) == 8
    assert harness.store.decision(decision.id).approved_by == "UMOD2"


def test_cancelled_request_reopens_the_card(harness):
    cid = seed_cluster(harness.store, "k", 8)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
    wait_for(lambda: harness.store.decisions_for(cid))
    decision = harness.store.decisions_for(cid)[0]
    harness.slack.click(ids.CANCEL_REQUEST, ids.button_value(cid, decision.id), "UMOD2", ts)
    wait_for(lambda: harness.store.cluster_view(cid).status == "open")
    last = wait_for(lambda: _action_ids(harness.fake.of("chat.update")[-1].params) == set(ids.OPEN_CARD_BUTTONS))
    assert last and harness.outbox_lines() == []


def test_review_modal_gives_each_group_of_ticked_accounts_its_own_action(harness):
    cid = seed_cluster(harness.store, "r", 12)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.REVIEW, cid, "UMOD1", ts)
    [opened] = wait_for(lambda: harness.fake.of("views.open"))
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "1.2.trigger" and view["private_metadata"] == cid
    groups = [b for b in view["blocks"] if b.get("block_id", "").startswith(ids.ACCOUNTS_BLOCK_PREFIX)]
    assert [len(g["element"]["options"]) for g in groups] == [10, 2]
    assert [b["block_id"] for b in view["blocks"] if b.get("block_id", "").startswith(ids.GROUP_ACTION_PREFIX)] \
        == [f"{ids.GROUP_ACTION_PREFIX}0", f"{ids.GROUP_ACTION_PREFIX}1"]
    empty = harness.slack.submit(view, "UMOD1", {})
    assert empty.json()["response_action"] == "errors"
    ticked = {"accounts_0": {ids.ACCOUNTS_ACTION: {"selected_options": [{"value": "r-a1"}, {"value": "r-a4"}]}},
              "group_action_0": {ids.ACTION_CHOICE: {"selected_option": {"value": "require_verification"}}},
              "accounts_1": {ids.ACCOUNTS_ACTION: {"selected_options": [{"value": "r-a11"}]}},
              "group_action_1": {ids.ACTION_CHOICE: {"selected_option": {"value": "suspend"}}},
              ids.POLICY_BLOCK: {ids.POLICY_SELECT: {"selected_option": {"value": "spam"}}},
              ids.REASON_BLOCK: {ids.REASON_INPUT: {"value": "same giveaway link"}}}
    response = harness.slack.submit(view, "UMOD1", ticked)
    assert response.status_code == 200 and not response.content
    wait_for(_stamped(harness, ts, "Suspended 1 account and required verification for 2 accounts"))
    assert sorted((line["account_id"], line["action"]) for line in harness.outbox_lines()) == [
        ("r-a1", "require_verification"), ("r-a11", "suspend"), ("r-a4", "require_verification")]
    [decision] = harness.store.decisions_for(cid)
    assert (decision.action, decision.policy, decision.reason) == ("suspend", "spam", "same giveaway link")
    assert harness.store.cluster_view(cid).status == "suspended"


def _suspended_then_undone(harness, prefix: str):
    """A 3-account cluster suspended by one moderator and undone by another; its id and the decision."""
    cid = seed_cluster(harness.store, prefix, 3)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
    wait_for(_first_decision_is(harness, cid, "done"))
    decision = harness.store.decisions_for(cid)[0]
    harness.slack.click(ids.UNDO, ids.button_value(cid, decision.id), "UMOD2", ts)
    wait_for(_stamped(harness, ts, "undid the last decision"))
    return cid, decision


def test_undo_reverses_the_suspension_and_reopens_the_card(harness):
    cid, decision = _suspended_then_undone(harness, "o")
    actions = [line["action"] for line in harness.outbox_lines()]
    assert actions == ["suspend"] * 3 + ["unsuspend"] * 3
    assert harness.store.decision(decision.id).status == "undone"
    assert harness.store.cluster_view(cid).status == "open"
    assert _action_ids(harness.fake.of("chat.update")[-1].params) == set(ids.OPEN_CARD_BUTTONS)


def test_an_account_whose_suspension_was_undone_can_be_looked_up(harness):
    _suspended_then_undone(harness, "u")
    reply = json.dumps(harness.slack.command("lookup u-a1", "UMOD1").json(), ensure_ascii=False)
    assert "Suspended 3 accounts" in reply and "Unsuspended 3 accounts" in reply


def test_every_action_has_its_done_and_doing_phrase():
    from domain.decisions import Action
    from handlers.blocks import DOING_PHRASE, DONE_PHRASE

    assert set(DONE_PHRASE) == set(DOING_PHRASE) == set(Action)
