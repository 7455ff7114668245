"""Accounts that join a cluster after it was decided get their own buttons in the card's thread: signed clicks
over HTTP against the fake Slack, the first decision on them wins, the two-person rule holds, the card keeps its
own decision."""

from __future__ import annotations

import json
from datetime import timedelta

from domain.models import Author, Post
from handlers import ids
from tests.conftest import START, add_posts, seed_cluster
from tests.slack_fakes import wait_for


def _decided_then_grown(harness, key: str, late: int) -> tuple[str, str, dict]:
    """A 3-account cluster suspended from its card, then `late` accounts joining: (cluster, card ts, reply)."""
    cid = seed_cluster(harness.store, key, 3)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
    wait_for(lambda: harness.store.decisions_for(cid) and harness.store.decisions_for(cid)[0].status == "done")
    newcomers = [Post(id=f"{key}-p{i}", created_at=START + timedelta(minutes=i), text="Vote X on March 3! #VoteX",
                      author=Author(id=f"{key}-a{i}", handle=f"late{i}")) for i in range(3, 3 + late)]
    add_posts(harness.store, key, newcomers)
    harness.announce()
    [reply] = harness.fake.thread("CMOD", ts)
    return cid, ts, reply


def _buttons(blocks) -> dict[str, dict]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def _reply_updates(harness, reply_ts: str, phrase: str):
    return lambda: [c for c in harness.fake.of("chat.update")
                    if c.params["ts"] == reply_ts and phrase in json.dumps(c.params, ensure_ascii=False)]


def test_late_accounts_get_their_own_buttons_and_the_first_click_acts_on_them_only(harness):
    cid, ts, reply = _decided_then_grown(harness, "l", 2)
    buttons = _buttons(reply["blocks"])
    assert set(buttons) == {ids.LATE_SUSPEND, ids.LATE_LIMIT, ids.LATE_REQUIRE_VERIFICATION}
    assert buttons[ids.LATE_SUSPEND]["text"]["text"] == "Suspend these 2"
    value = buttons[ids.LATE_SUSPEND]["value"]
    harness.slack.click(ids.LATE_SUSPEND, value, "UMOD2", reply["ts"])
    [stamped] = wait_for(_reply_updates(harness, reply["ts"], "Suspended 2 accounts — <@UMOD2>"))
    assert set(_buttons(stamped.params["blocks"])) == {ids.UNDO}
    assert sorted(line["account_id"] for line in harness.outbox_lines()) == [f"l-a{i}" for i in range(5)]
    assert harness.store.cluster_view(cid).status == "suspended"
    card = harness.store.cluster_view(cid)
    assert card.live_decision.moderator == "UMOD1" and len(card.live_decision.accounts) == 3  # the card's own
    harness.slack.click(ids.LATE_REQUIRE_VERIFICATION, value, "UMOD1", reply["ts"])  # a second click
    [note] = wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    assert "already handled by <@UMOD2>" in note.params["text"] and len(harness.outbox_lines()) == 5
    harness.slack.click(ids.LATE_SUSPEND, value, "UMOD1", ts)  # the right value on the wrong message
    notes = wait_for(lambda: len(harness.fake.of("chat.postEphemeral")) == 2 and harness.fake.of("chat.postEphemeral"))
    assert "does not match" in notes[-1].params["text"]


def test_a_large_late_batch_waits_for_a_second_moderator_in_the_thread(harness):
    cid, _, reply = _decided_then_grown(harness, "w", 6)
    value = _buttons(reply["blocks"])[ids.LATE_SUSPEND]["value"]
    harness.slack.click(ids.LATE_SUSPEND, value, "UMOD1", reply["ts"])
    [asked] = wait_for(_reply_updates(harness, reply["ts"], "second moderator must approve"))
    approve = _buttons(asked.params["blocks"])[ids.APPROVE]["value"]
    assert len(harness.outbox_lines()) == 3
    harness.slack.click(ids.APPROVE, approve, "UMOD2", reply["ts"])
    wait_for(_reply_updates(harness, reply["ts"], "Suspended 6 accounts — <@UMOD1>, approved by <@UMOD2>"))
    assert len(harness.outbox_lines()) == 9 and harness.store.cluster_view(cid).status == "suspended"
