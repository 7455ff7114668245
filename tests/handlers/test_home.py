"""App Home over the real protocol: signed app_home_opened events and Home clicks sent over HTTP to the Bolt
app, views.publish answered by the fake Slack, every published view re-read through slack_sdk's View model."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from slack_sdk.models.views import View

from domain.models import Author, Cluster, Post
from handlers import ids
from handlers.home_blocks import QUEUE_PAGE_SIZE
from tests.conftest import START, running_bot, seed_cluster
from tests.slack_fakes import wait_for


def _published(harness, user, condition=lambda view: True):
    """The last Home published for `user` once it satisfies `condition`, checked against Slack's limits."""
    view = wait_for(lambda: (v := harness.fake.homes.get(user)) is not None and condition(v) and v)
    View(**view).validate_json()  # slack_sdk's model: type, block count, lengths
    return view


def _text(view) -> str:
    return json.dumps(view["blocks"])


def _queue(view) -> list[str]:
    return [b["block_id"].removeprefix("queue_") for b in view["blocks"] if b.get("block_id", "").startswith("queue_")]


def _flag(store, key: str, accounts: int, score: float, source: str = "jsonl", minutes: int = 0) -> str:
    """A cluster from `source` with this score; clusters are flagged in the order this is called."""
    posts = [Post(id=f"{key}-p{i}", created_at=START + timedelta(minutes=minutes + i), text=f"campaign {key}",
                  author=Author(id=f"{key}-a{i}", handle=f"{key}{i}")) for i in range(accounts)]
    store.ingest(source, posts, None)
    cluster = Cluster(key=f"text:{key}", score=score, accounts=[p.author.id for p in posts],
                      posts=[p.id for p in posts], reasons=["same text"], sample_text=posts[0].text,
                      first_seen=START, last_seen=START + timedelta(minutes=40))
    store.sync_clusters([cluster])
    return cluster.id


def test_a_moderator_opening_home_sees_the_queue_oldest_first_with_links_and_claim_buttons(harness):
    old = _flag(harness.store, "old", 5, 0.9)
    new = _flag(harness.store, "new", 3, 0.6, source="mastodon")
    harness.announce()
    response = harness.slack.event(harness.slack.home_opened("UMOD1"))
    assert response.status_code == 200
    view = _published(harness, "UMOD1")
    assert view["type"] == "home" and _queue(view) == [old, new]
    lines = {b["block_id"]: b for b in view["blocks"] if b.get("block_id", "").startswith("queue_")}
    first = lines[f"queue_{old}"]["text"]["text"]
    assert first.startswith("🔴") and "5 accounts" in first and "waiting" in first and "jsonl" in first
    assert f"<https://slack.com/archives/CMOD/p{harness.card_ts(old).replace('.', '')}|{old}>" in first
    second = lines[f"queue_{new}"]["text"]["text"]
    assert second.startswith("🟡") and "mastodon" in second
    assert {lines[k]["accessory"]["action_id"] for k in lines} == {ids.CLAIM}
    filters = next(b for b in view["blocks"] if b["type"] == "actions" and b["block_id"] == "home_filters")
    assert [e["action_id"] for e in filters["elements"]] == list(ids.HOME_FILTERS)
    assert "This week" in _text(view) and "Flagged: 2 clusters" in _text(view)
    [chart] = [b for b in view["blocks"] if b["type"] == "image"]
    assert chart["slack_file"]["id"] in harness.fake.files


def test_anyone_else_gets_an_explanation_and_no_buttons(harness):
    seed_cluster(harness.store, "v", 3)
    harness.announce()
    harness.slack.event(harness.slack.home_opened("UVISITOR"))
    view = _published(harness, "UVISITOR")
    assert "for moderators only" in _text(view)
    assert not [b for b in view["blocks"] if b["type"] == "actions" or b.get("accessory")]
    assert "c-" not in _text(view)


def test_filters_and_claimed_by_me_narrow_the_queue(harness):
    _narrow_the_queue(harness)


def _narrow_the_queue(harness):
    """Pick each filter in turn from UMOD1's Home; returns the last Home (high severity only) and that cluster."""
    high = _flag(harness.store, "hi", 4, 0.95)
    low = _flag(harness.store, "lo", 4, 0.55, source="mastodon")
    mine = _flag(harness.store, "mi", 4, 0.7, source="mastodon")
    harness.announce()
    harness.slack.click(ids.CLAIM, mine, "UMOD1", harness.card_ts(mine))
    wait_for(lambda: harness.store.claim_of(mine))
    harness.slack.event(harness.slack.home_opened("UMOD1"))
    view = _published(harness, "UMOD1", lambda v: len(_queue(v)) == 3)

    def pick(action_id, value, current):
        harness.slack.home_click({"type": "static_select", "action_id": action_id,
                                  "selected_option": {"value": value}}, "UMOD1", current)

    pick(ids.HOME_FILTER_PLATFORM, "mastodon", view)
    view = _published(harness, "UMOD1", lambda v: _queue(v) == [low, mine])
    pick(ids.HOME_FILTER_CLAIMED, "mine", view)
    view = _published(harness, "UMOD1", lambda v: _queue(v) == [mine])
    assert "claimed by you" in _text(view)
    pick(ids.HOME_FILTER_PLATFORM, ids.ALL, view)
    pick(ids.HOME_FILTER_CLAIMED, "anyone", _published(harness, "UMOD1", lambda v: _queue(v) == [mine]))
    view = _published(harness, "UMOD1", lambda v: len(_queue(v)) == 3)
    pick(ids.HOME_FILTER_SEVERITY, "high", view)
    return _published(harness, "UMOD1", lambda v: _queue(v) == [high]), high


def test_filters_come_back_after_a_restart_from_the_home_slack_shows(tmp_path, fake_slack):
    with running_bot(tmp_path, fake_slack) as before:
        view, high = _narrow_the_queue(before)
    fake_slack.homes.clear()
    with running_bot(tmp_path, fake_slack) as after:  # a new process: it knows nothing of UMOD1's filters
        after.slack.event(after.slack.home_opened("UMOD1", view))
        assert _queue(_published(after, "UMOD1")) == [high]


def test_the_queue_is_paged_within_slacks_100_blocks(harness):
    made = [_flag(harness.store, f"k{i:03d}", 3, 0.9, minutes=i) for i in range(QUEUE_PAGE_SIZE * 2 + 7)]
    harness.announce()
    harness.slack.event(harness.slack.home_opened("UMOD2"))
    seen: list[str] = []
    view = _published(harness, "UMOD2")
    while True:
        assert len(view["blocks"]) <= 100
        page = _queue(view)
        seen += page
        following = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == ids.HOME_PAGE_NEXT]
        if not following:
            break
        harness.slack.home_click({"type": "button", **following[0]}, "UMOD2", view)
        view = _published(harness, "UMOD2", lambda v, page=page: _queue(v) and _queue(v) != page)
    assert seen == made and "page 3 of 3" in _text(view)


def test_home_follows_the_queue_claims_and_decisions(harness):
    first = seed_cluster(harness.store, "a", 3)
    harness.announce()
    harness.slack.event(harness.slack.home_opened("UMOD1"))
    harness.slack.event(harness.slack.home_opened("UMOD2"))
    view = _published(harness, "UMOD2", lambda v: _queue(v) == [first])
    second = seed_cluster(harness.store, "b", 4, text="another campaign entirely")
    harness.announce()
    _published(harness, "UMOD1", lambda v: _queue(v) == [first, second])
    # UMOD1 claims from Home; UMOD2 presses Claim on the Home it still shows, and is told at the top of it
    claim = next(b["accessory"] for b in view["blocks"] if b.get("block_id") == f"queue_{first}")
    harness.slack.home_click({"type": "button", **claim}, "UMOD1", view)
    wait_for(lambda: harness.store.claim_of(first))
    harness.slack.home_click({"type": "button", **claim}, "UMOD2", view)
    told = _published(harness, "UMOD2", lambda v: "<@UMOD1> claimed this cluster" in _text(v))
    assert "claimed by <@UMOD1>" in _text(told)
    mine = _published(harness, "UMOD1", lambda v: "claimed by you" in _text(v))
    assert not [b for b in mine["blocks"] if b.get("block_id") == f"queue_{first}" and b.get("accessory")]
    wait_for(lambda: "Claimed by <@UMOD1>" in json.dumps(harness.fake.of("chat.update")[-1].params))
    # a decision leaves the queue and shows under "What you decided"
    harness.slack.click(ids.DISMISS, first, "UMOD1", harness.card_ts(first))
    done = _published(harness, "UMOD1", lambda v: _queue(v) == [second])
    assert f"Dismissed 3 accounts on <https://slack.com/archives/CMOD/p{harness.card_ts(first).replace('.', '')}" \
        in _text(done)


def test_an_unchanged_home_is_not_published_again(harness):
    seed_cluster(harness.store, "q", 3)
    harness.announce()
    harness.slack.event(harness.slack.home_opened("UMOD1"))
    _published(harness, "UMOD1")
    time.sleep(0.5)  # five of the harness's 0.1 s checks of the queue
    before = len(harness.fake.of("views.publish"))
    harness.runtime.home.queue_changed()
    harness.runtime.home.queue_changed()
    time.sleep(0.5)
    assert len(harness.fake.of("views.publish")) == before
