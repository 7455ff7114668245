"""The protocol edges: signatures, health, Slack's 429 and 5xx while posting, growth, card limits, retries."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import httpx

from domain.decisions import Action
from domain.models import Author, Post
from domain.views import AccountView
from handlers import ids
from handlers.blocks import MAX_BLOCKS, SECTION_CHARS, cluster_card
from platforms.base import ActionResult
from platforms.jsonl import JsonlOutbox
from tests.conftest import START, add_posts, running_bot, seed_cluster
from tests.slack_fakes import wait_for


def test_forged_and_stale_signatures_are_refused(harness):
    cid = seed_cluster(harness.store, "f", 3)
    harness.announce()
    body = harness.slack.click_body(ids.SUSPEND_ALL, cid, "UMOD1", harness.card_ts(cid))
    assert harness.slack.signed(body, secret="not-the-secret").status_code == 401
    assert harness.slack.signed(body, timestamp=int(time.time()) - 600).status_code == 401
    time.sleep(0.2)
    assert harness.store.decisions_for(cid) == [] and harness.outbox_lines() == []
    assert harness.fake.of("chat.postEphemeral") == [] and harness.fake.of("chat.update") == []


def test_healthz_answers_ok(harness):
    response = httpx.get(harness.base + "/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_429_and_500_while_posting_are_retried_and_nothing_is_dropped(harness):
    cid = seed_cluster(harness.store, "q", 3)
    harness.fake.script("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    harness.fake.script("chat.postMessage", 500, "<html>Internal Server Error</html>")
    harness.fake.script("chat.postMessage", 503, "<html>unavailable</html>")
    assert harness.announce() == 1
    attempts = harness.fake.of("chat.postMessage")
    assert len(attempts) == 4
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After honoured
    assert attempts[3].at - attempts[2].at >= attempts[2].at - attempts[1].at  # backoff grows
    assert harness.card_ts(cid)
    assert harness.store.unnotified() == []


def test_a_permanent_slack_error_leaves_the_card_for_the_next_poll(harness):
    cid = seed_cluster(harness.store, "x", 3)
    harness.fake.script("chat.postMessage", 200, {"ok": False, "error": "channel_not_found"})
    try:
        harness.announce()
    except Exception as error:  # the poll job logs it and retries next interval
        assert "channel_not_found" in str(error)
    assert [change.cluster_id for change in harness.store.unnotified()] == [cid]
    assert harness.announce() == 1 and harness.card_ts(cid)


def test_growth_updates_the_card_in_place_and_replies_in_its_thread(harness):
    cid = seed_cluster(harness.store, "g", 3)
    harness.announce()
    ts = harness.card_ts(cid)
    newcomers = [Post(id=f"g-p{i}", created_at=START + timedelta(minutes=i), text="Vote X on March 3! #VoteX",
                      author=Author(id=f"g-a{i}", handle=f"late{i}")) for i in range(3, 5)]
    assert add_posts(harness.store, "g", newcomers) == cid
    assert harness.announce() == 1
    [update] = harness.fake.of("chat.update")
    assert update.params["ts"] == ts and "5 accounts" in json.dumps(update.params)
    posted = harness.fake.of("chat.postMessage")
    assert len(posted) == 2 and posted[1].params["thread_ts"] == ts
    assert "+2 accounts" in posted[1].params["text"] and "@late3" in json.dumps(posted[1].params)


def test_a_huge_cluster_card_stays_within_slack_limits(harness):
    cid = seed_cluster(harness.store, "h", 3, text="<!here> " + "very long campaign text " * 400)
    view = harness.store.cluster_view(cid)
    crowd = [AccountView(f"h{i}", f"handle_{'x' * 40}_<@U{i}>", f"https://social.example/{i}", None, 2.0)
             for i in range(2000)]
    big = type(view)(**{**{f: getattr(view, f) for f in view.__slots__}, "accounts": crowd,
                        "reasons": ["reason " * 300] * 30, "media": ["f" * 64] * 500})
    card = cluster_card(big, START, 30)
    assert len(card["blocks"]) <= MAX_BLOCKS
    texts = [b["text"]["text"] for b in card["blocks"] if b["type"] == "section"]
    assert all(len(text) <= SECTION_CHARS for text in texts)
    accounts = next(text for text in texts if text.startswith("*Accounts:*"))
    first_line = accounts.splitlines()[0]
    hidden = int(re.search(r"and (\d+) more$", first_line)[1])
    assert hidden + first_line.count("|@handle_") == 2000
    assert "<@U" not in json.dumps(card) and "<!here>" not in json.dumps(card)
    harness.runtime.sender.call("chat.postMessage", channel="CMOD", **card)  # Slack accepts it as built


class FlakyOutbox(JsonlOutbox):
    """A platform whose first attempt on some accounts fails, as real APIs do."""

    def __init__(self, path, failing):
        super().__init__(path)
        self.failing = set(failing)

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        if account_id in self.failing:
            self.failing.discard(account_id)
            return ActionResult(account_id, action, ok=False, detail="HTTP 502 from platform")
        return super().act(action, account_id, reason, idempotency_key)


def test_failed_accounts_are_listed_and_retry_finishes_them(tmp_path, fake_slack):
    with running_bot(tmp_path, fake_slack, FlakyOutbox(tmp_path / "actions.jsonl", ["p-a1", "p-a2"])) as bot:
        cid = seed_cluster(bot.store, "p", 4)
        bot.announce()
        ts = bot.card_ts(cid)
        bot.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
        partial = wait_for(lambda: [c for c in fake_slack.of("chat.update") if "2 of 4" in json.dumps(c.params)])
        dumped = json.dumps(partial[-1].params)
        assert "Failed on 2 accounts" in dumped and "HTTP 502 from platform" in dumped and ids.RETRY in dumped
        decision = bot.store.decisions_for(cid)[0]
        assert decision.status == "failed" and set(decision.failures) == {"p-a1", "p-a2"}
        bot.slack.click(ids.RETRY, ids.button_value(cid, decision.id), "UMOD2", ts)
        wait_for(lambda: bot.store.decision(decision.id).status == "done")
        wait_for(lambda: "Suspended 4 accounts" in json.dumps(fake_slack.of("chat.update")[-1].params))
        assert sorted(line["account_id"] for line in bot.outbox_lines()) == [f"p-a{i}" for i in range(4)]
        failed = [e for e in bot.store.audit_entries() if e.event == "action_failed"]
        assert {e.account_id for e in failed} == {"p-a1", "p-a2"}


def test_a_stuck_channel_does_not_hold_up_another(harness):
    """Each channel has its own send lane: while Slack sits on a post to one, another channel's posts go out."""
    gate = harness.fake.hold("chat.postMessage", after=True, when=lambda params: params.get("channel") == "CBUSY")
    busy = harness.runtime.sender.submit("chat.postMessage", channel="CBUSY", text="held by Slack")
    gate.wait()
    started = time.monotonic()
    others = [harness.runtime.sender.submit("chat.postMessage", channel="COTHER", text=f"n{i}") for i in range(3)]
    assert all(sent.result(timeout=5)["ok"] for sent in others) and time.monotonic() - started < 2
    assert not busy.done()
    gate.release()
    assert busy.result(timeout=5)["ok"]
    assert [m["text"] for m in harness.fake.channel_messages("COTHER")] == ["n0", "n1", "n2"]  # in order
