"""The review modal on a 2,000-account card: paged within Slack's 100 blocks, ticks kept across pages, and one
submission giving each group of ticked accounts its own action; all over signed HTTP against the fake Slack."""

from __future__ import annotations

import json
import time

from slack_sdk.models.views import View

from handlers import ids
from tests.conftest import seed_cluster
from tests.slack_fakes import wait_for


def _valid(view: dict) -> dict:
    View(**view).validate_json()  # slack_sdk's model: at most 100 blocks, the lengths Slack allows
    return view


def _group(number: int, accounts: list[str], action: str) -> dict:
    return {f"{ids.ACCOUNTS_BLOCK_PREFIX}{number}": {ids.ACCOUNTS_ACTION: {
                "selected_options": [{"value": a} for a in accounts]}},
            f"{ids.GROUP_ACTION_PREFIX}{number}": {ids.ACTION_CHOICE: {"selected_option": {"value": action}}}}


def _button(view: dict, action_id: str) -> dict:
    return next({"type": "button", **e} for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == action_id)


def _groups_shown(view: dict) -> list[int]:
    return [int(b["block_id"].removeprefix(ids.ACCOUNTS_BLOCK_PREFIX)) for b in view["blocks"]
            if b.get("block_id", "").startswith(ids.ACCOUNTS_BLOCK_PREFIX)]


def test_a_card_with_2000_accounts_is_reviewed_across_pages_in_one_submission(harness):
    cid = seed_cluster(harness.store, "big", 2000)
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.REVIEW, cid, "UMOD1", ts)
    [opened] = wait_for(lambda: harness.fake.of("views.open"))
    first = _valid(opened.params["view"])
    assert _groups_shown(first) == list(range(25)) and "Page 1 of 8" in json.dumps(first)

    page_one = _group(0, ["big-a0", "big-a1"], "suspend") | _group(3, ["big-a35"], "require_verification")
    harness.slack.modal_click(_button(first, ids.REVIEW_PAGE_NEXT), "UMOD1", first, page_one)
    [update] = wait_for(lambda: harness.fake.of("views.update"))
    second = _valid(update.params["view"])
    assert update.params["view_id"] == "V1" and _groups_shown(second) == list(range(25, 50))
    assert "3 accounts ticked so far" in json.dumps(second)

    harness.slack.modal_click(_button(second, ids.REVIEW_PAGE_PREVIOUS), "UMOD1", second,
                              _group(26, ["big-a265"], "suspend"))
    back = _valid(wait_for(lambda: len(harness.fake.of("views.update")) == 2 and harness.fake.of("views.update"))[-1]
                  .params["view"])
    blocks = {b.get("block_id"): b for b in back["blocks"]}
    assert [o["value"] for o in blocks["accounts_0"]["element"]["initial_options"]] == ["big-a0", "big-a1"]
    assert blocks["group_action_0"]["element"]["initial_option"]["value"] == "suspend"
    assert blocks["group_action_3"]["element"]["initial_option"]["value"] == "require_verification"

    submitted = harness.slack.submit(back, "UMOD1", page_one | {
        ids.POLICY_BLOCK: {ids.POLICY_SELECT: {"selected_option": {"value": "spam"}}}})
    assert submitted.status_code == 200 and not submitted.content
    wait_for(lambda: [c for c in harness.fake.of("chat.update") if c.params["ts"] == ts and
                      "Suspended 3 accounts and required verification for 1 account" in json.dumps(c.params)])
    assert sorted((line["account_id"], line["action"]) for line in harness.outbox_lines()) == [
        ("big-a0", "suspend"), ("big-a1", "suspend"), ("big-a265", "suspend"), ("big-a35", "require_verification")]
    assert harness.store.review_draft("V1", cid, "UMOD1") == {}


def test_a_page_turn_naming_accounts_of_another_page_is_ignored(harness):
    cid = seed_cluster(harness.store, "p", 300)
    harness.announce()
    harness.slack.click(ids.REVIEW, cid, "UMOD1", harness.card_ts(cid))
    [opened] = wait_for(lambda: harness.fake.of("views.open"))
    view = opened.params["view"]
    forged = _group(0, ["p-a299"], "suspend")  # group 0 holds accounts 1-10 only
    harness.slack.modal_click(_button(view, ids.REVIEW_PAGE_NEXT), "UMOD1", view, forged)
    time.sleep(0.3)
    assert harness.fake.of("views.update") == [] and harness.store.review_draft("V1", cid, "UMOD1") == {}
