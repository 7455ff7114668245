"""Hostile input: requests that are not Slack's, buttons and modals that lie, slash-command text built to
break things, and posts built to exhaust memory or to ping a channel. Nothing gets through and the bot
keeps working; refusals are audited."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import orjson
import pytest

from handlers import ids
from platforms.http import HttpClient, HttpSettings, PlatformError
from platforms.jsonl import MAX_LINE_BYTES, JsonlSource
from tests.conftest import record, running_bot, seed_cluster, write_jsonl
from tests.platform_server import FakePlatform, Reply
from tests.slack_fakes import wait_for

TRICKS = "\u202eevil\u202c \u200bzero\u200bwidth \x00nul \x1b[31mansi <!channel> <@U123> <!subteam^S1> & <https://x|y>"


def test_missing_and_replayed_signatures_are_refused(harness):
    cid = seed_cluster(harness.store, "r", 3)
    harness.announce()
    body = harness.slack.click_body(ids.DISMISS, cid, "UMOD1", harness.card_ts(cid))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    unsigned = httpx.post(harness.slack.url, content=body, headers=form)
    assert unsigned.status_code == 401
    stamp = int(time.time())
    assert harness.slack.signed(body, timestamp=stamp).status_code == 200
    assert harness.slack.signed(body, timestamp=stamp).status_code == 401  # the same request again
    wait_for(lambda: harness.store.decisions_for(cid))
    time.sleep(0.2)
    assert len(harness.store.decisions_for(cid)) == 1


def test_a_request_replayed_after_a_restart_is_still_refused(tmp_path, fake_slack):
    with running_bot(tmp_path, fake_slack) as before:
        cid = seed_cluster(before.store, "z", 3)
        before.announce()
        body = before.slack.click_body(ids.DISMISS, cid, "UMOD1", before.card_ts(cid))
        stamp = int(time.time())
        assert before.slack.signed(body, timestamp=stamp).status_code == 200
        wait_for(lambda: before.store.decisions_for(cid))
    with running_bot(tmp_path, fake_slack) as after:  # the same database, a new process's memory
        assert after.slack.signed(body, timestamp=stamp).status_code == 401
        assert after.slack.signed(body, timestamp=stamp + 1).status_code == 200  # a new signature goes through
        assert after.store.db.execute("SELECT count(*) FROM seen_requests").fetchone()[0] == 2


@pytest.mark.parametrize("value", ["c-x' OR '1'='1", "c-" + "f" * 5000, "c-ffffffffff:1; DROP TABLE decisions",
                                   ":1", "", "c-ffffffffff:-1", "c-ffffffffff:99999999999999999999"])
def test_forged_button_values_are_refused_and_audited(harness, value):
    cid = seed_cluster(harness.store, "v", 3)
    harness.announce()
    assert harness.slack.click(ids.SUSPEND_ALL, value, "UMOD1", harness.card_ts(cid)).status_code == 200
    [note] = wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    assert "does not match" in note.params["text"]
    assert harness.store.decisions_for(cid) == [] and harness.outbox_lines() == []
    assert [e.event for e in harness.store.audit_entries()][-1] == "decision_refused"


@pytest.mark.parametrize("action_id", [ids.UNDO, ids.APPROVE, ids.SUSPEND_ALL])
def test_a_real_cluster_with_a_decision_id_past_sqlite_integers_is_refused_and_audited(harness, action_id):
    cid = seed_cluster(harness.store, "w", 3)
    harness.announce()
    response = harness.slack.click(action_id, f"{cid}:{'9' * 20}", "UMOD1", harness.card_ts(cid))
    assert response.status_code == 200
    [note] = wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    assert "does not match" in note.params["text"]
    assert harness.store.decisions_for(cid) == [] and harness.outbox_lines() == []
    assert [e.event for e in harness.store.audit_entries()][-1] == "decision_refused"


def test_a_payload_without_actions_changes_nothing(harness):
    cid = seed_cluster(harness.store, "w", 3)
    harness.announce()
    payload = json.loads(httpx.QueryParams(harness.slack.click_body(ids.DISMISS, cid, "UMOD1", "1.1"))["payload"])
    payload["actions"] = []
    response = harness.slack.signed(str(httpx.QueryParams({"payload": json.dumps(payload)})))
    assert response.status_code >= 400  # Bolt cannot route it
    time.sleep(0.2)
    assert harness.store.decisions_for(cid) == []


def test_a_modal_naming_accounts_of_another_cluster_is_refused(harness):
    cid = seed_cluster(harness.store, "m", 3)
    seed_cluster(harness.store, "o", 3, text="some other campaign entirely")
    harness.announce()
    harness.slack.click(ids.REVIEW, cid, "UMOD1", harness.card_ts(cid))
    [opened] = wait_for(lambda: harness.fake.of("views.open"))
    values = {"accounts_0": {ids.ACCOUNTS_ACTION: {"selected_options": [{"value": "o-a1"}]}},
              f"{ids.GROUP_ACTION_PREFIX}0": {ids.ACTION_CHOICE: {"selected_option": {"value": "suspend"}}},
              ids.POLICY_BLOCK: {ids.POLICY_SELECT: {"selected_option": {"value": "spam"}}}}
    refused = harness.slack.submit(opened.params["view"], "UMOD1", values)
    assert refused.json()["response_action"] == "errors"
    values["accounts_0"][ids.ACCOUNTS_ACTION]["selected_options"] = [{"value": "m-a1"}]
    values[f"{ids.GROUP_ACTION_PREFIX}0"][ids.ACTION_CHOICE]["selected_option"]["value"] = "delete_everything"
    assert harness.slack.submit(opened.params["view"], "UMOD1", values).json()["response_action"] == "errors"
    assert harness.store.decisions_for(cid) == [] and harness.outbox_lines() == []


@pytest.mark.parametrize("text", [
    "lookup ' OR 1=1 --", "search \" OR \"", "search NEAR(a b) AND text:* OR -x ^y",
    "cluster c-1'; DELETE FROM posts;--",
    "search " + "x" * 10_000, "lookup " + TRICKS, "search " + TRICKS, "stats \u0661\u0662h", "\x00\x00",
    "search ﻿\u00a0\u3000", "lookup @ᴀᴅᴍɪɴ",
])
def test_hostile_slash_commands_get_a_safe_answer(harness, text):
    seed_cluster(harness.store, "s", 3, text="Claim your free gift card now")
    harness.announce()
    posts = harness.store.count("posts")
    response = harness.slack.command(text, "UMOD1")
    assert response.status_code == 200
    reply = response.text
    assert "Traceback" not in reply and "Sorry, that lookup failed" not in reply
    for forbidden in ("<!channel>", "<@U123>", "<!subteam", "\u202e", "\x00", "\x1b"):
        assert forbidden not in reply
    assert harness.store.count("posts") == posts


def test_post_text_that_tries_to_ping_or_reorder_the_card_is_neutralised(harness):
    seed_cluster(harness.store, "p", 3, text=TRICKS, handle="\u202egnp.evil")
    harness.announce()
    [card] = harness.fake.of("chat.postMessage")
    dumped = json.dumps(card.params, ensure_ascii=False)
    for forbidden in ("<!channel>", "<@U123>", "<!subteam", "<https://x|y>", "\u202e", "\x00", "\x1b", "\u200b"):
        assert forbidden not in dumped
    assert "&lt;!channel&gt;" in dumped and "&amp;" in dumped


def test_the_jsonl_reader_bounds_lines_nesting_and_text(tmp_path: Path):
    deep = '{"id": "deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    huge_line = json.dumps(record("huge", "y" * (MAX_LINE_BYTES + 10), "a1"))
    long_text = record("long", "z" * 500_000, "a2")
    path = write_jsonl(tmp_path / "feed.jsonl", [deep, huge_line, long_text, record("ok", "fine", "a3"),
                                                  record("x" * 5000, "id too long", "a4")])
    result = JsonlSource(path).fetch(None, 100)
    assert [post.id for post in result.posts] == ["long", "ok"]
    assert len(result.posts[0].text) == 20_000
    problems = {s.where: s.problem for s in result.skipped}
    assert "depth" in problems["feed.jsonl:1"] and "byte limit" in problems["feed.jsonl:2"]
    assert "too long" in problems["feed.jsonl:5"] or "over the" in problems["feed.jsonl:5"]


def test_http_adapters_refuse_oversized_and_deeply_nested_replies():
    platform = FakePlatform()
    platform.route("GET", "/big", Reply(200, raw=b"[" + b'"x",' * 3_000_000 + b'"x"]'))
    platform.route("GET", "/deep", Reply(200, raw=b"[" * 100_000 + b"]" * 100_000))
    try:
        client = HttpClient("mastodon", platform.url, HttpSettings(retries=0, max_response_bytes=1_000_000))
        with pytest.raises(PlatformError, match="more than 1,000,000 bytes"):
            client.json("GET", "/big")
        with pytest.raises(PlatformError, match="malformed JSON"):
            client.json("GET", "/deep")
    finally:
        platform.close()
    assert orjson  # the decoder that refuses the nesting
