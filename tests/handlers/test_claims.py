"""Claims: signed Claim and Take over clicks over HTTP against the fake Slack; races between moderators."""

from __future__ import annotations

import json
import threading

from handlers import ids
from service.claims import ClaimOutcome, claim
from tests.conftest import seed_cluster
from tests.slack_fakes import wait_for

MODS = ("UMOD1", "UMOD2")


def _claim_events(store, cluster_id):
    return [(e.event, e.actor, e.detail.get("previous") or e.detail.get("holder"))
            for e in store.audit_entries() if e.cluster_id == cluster_id
            and e.event in ("cluster_claimed", "cluster_taken_over", "claim_refused")]


def test_two_moderators_claim_at_once_one_wins_and_the_other_is_told_who(harness):
    cid = seed_cluster(harness.store, "r", 3)
    harness.announce()
    ts = harness.card_ts(cid)
    clicks = [threading.Thread(target=harness.slack.click, args=(ids.CLAIM, cid, user, ts)) for user in MODS]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    [note] = wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    holder = harness.store.claim_of(cid).moderator
    loser = next(user for user in MODS if user != holder)
    assert note.params["user"] == loser and f"<@{holder}> claimed this cluster" in note.params["text"]
    assert _claim_events(harness.store, cid) == [("cluster_claimed", holder, None), ("claim_refused", loser, holder)]
    card = wait_for(lambda: [c for c in harness.fake.of("chat.update")
                             if f"Claimed by <@{holder}>" in json.dumps(c.params)])
    buttons = {e["action_id"]: e for b in card[-1].params["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert set(buttons) == set(ids.OPEN_CARD_BUTTONS)  # the others keep every button
    assert buttons[ids.CLAIM]["text"]["text"] == "Take over" and buttons[ids.CLAIM]["value"] == f"{cid}@{holder}"


def test_a_take_over_takes_it_from_the_holder_shown_and_the_audit_log_names_both(harness):
    cid = seed_cluster(harness.store, "t", 3)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.CLAIM, cid, "UMOD1", ts)
    wait_for(lambda: harness.store.claim_of(cid))
    harness.slack.click(ids.CLAIM, ids.claim_value(cid, "UMOD1"), "UGROUPMOD", ts)
    wait_for(lambda: harness.store.claim_of(cid).moderator == "UGROUPMOD")
    harness.slack.click(ids.CLAIM, ids.claim_value(cid, "UMOD1"), "UMOD2", ts)  # a stale Take over: UMOD1 is gone
    [note] = wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    assert note.params["user"] == "UMOD2" and "<@UGROUPMOD> claimed" in note.params["text"]
    assert harness.store.claim_of(cid).moderator == "UGROUPMOD"
    assert _claim_events(harness.store, cid) == [("cluster_claimed", "UMOD1", None),
                                                 ("cluster_taken_over", "UGROUPMOD", "UMOD1"),
                                                 ("claim_refused", "UMOD2", "UGROUPMOD")]
    wait_for(lambda: "Claimed by <@UGROUPMOD>" in json.dumps(harness.fake.of("chat.update")[-1].params))


def test_a_decided_cluster_cannot_be_claimed_and_non_moderators_cannot_claim(harness):
    cid = seed_cluster(harness.store, "d", 3)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.CLAIM, cid, "URANDOM", ts)
    wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    assert harness.store.claim_of(cid) is None
    harness.slack.click(ids.DISMISS, cid, "UMOD1", ts)
    wait_for(lambda: harness.store.cluster_view(cid).status == "dismissed")
    harness.slack.click(ids.CLAIM, cid, "UMOD2", ts)
    notes = wait_for(lambda: len(harness.fake.of("chat.postEphemeral")) == 2 and harness.fake.of("chat.postEphemeral"))
    assert "already decided" in notes[-1].params["text"] and harness.store.claim_of(cid) is None


def test_claims_racing_through_separate_connections_leave_one_holder(harness):
    """Twenty moderators claim one cluster at once, each on its own thread and database connection."""
    cid = seed_cluster(harness.store, "x", 3)
    desk = harness.runtime.desk
    results = {}
    start = threading.Barrier(20)

    def grab(user):
        start.wait()
        results[user] = claim(desk, cid, user)

    threads = [threading.Thread(target=grab, args=(f"U{i:02d}",)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [user for user, result in results.items() if result.outcome is ClaimOutcome.CLAIMED]
    assert len(winners) == 1 and harness.store.claim_of(cid).moderator == winners[0]
    assert {r.holder for u, r in results.items() if u not in winners} == {winners[0]}
    assert [e[0] for e in _claim_events(harness.store, cid)].count("cluster_claimed") == 1
