"""A spam wave on Mastodon, end to end: `bot.py run` polls the fake Mastodon and takes its webhooks on the Slack
port; moderators act from cards and threads with signed clicks; every new action reaches Mastodon's admin API
once and is audited.

Two campaigns: 14 local accounts one to three months old posting a pool of messages with a picture (two of them
reported, four sharing a sign-up IP with two dormant accounts that never posted), and five accounts of one remote
instance posting one text. The card of the first counts its open reports and the siblings are listed in its
thread without their IP; Suspend all resolves the reports; Limit these 2 silences the siblings; a new account
that posts the campaign's picture by webhook is flagged in the thread within seconds and suspended from there;
the remote instance is suspended only once a second moderator approves, and Undo lifts the block."""

from __future__ import annotations

import copy
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from handlers import ids
from platforms.mastodon import TIMELINE
from service.webhooks import WEBHOOK_PATH, signature_of
from tests.platform_server import (
    CAMPAIGN_IMAGE,
    POOL_MESSAGES,
    FakePlatform,
    MastodonAdmin,
    Reply,
    SignUpRecord,
    Timeline,
    flyer_png,
    pool_campaign_timeline,
    recorded_statuses,
    snowflake,
)
from tests.slack_fakes import wait_for

SECRET = "e2e-webhook-secret"
WEBHOOK_PORT = re.compile(r"listening for Mastodon webhooks on port (\d+)")
VOTERS = [f"9000{i}" for i in range(14)]
REMOTE = [f"8800{i}" for i in range(5)]
SPAM_TEXT = "<p>Cheap followers and likes: 1000 for 5 dollars at boost-my-fans.example, DM me for details</p>"


def remote_campaign(template: dict, now: datetime, first_id: int) -> list[dict]:
    """Five accounts of spam.example posting one text in the last half hour."""
    statuses = []
    for index, account_id in enumerate(REMOTE):
        status = copy.deepcopy(template)
        status["account"] = {**status["account"], "id": account_id, "username": f"fans{index}",
                             "acct": f"fans{index}@spam.example", "url": f"https://spam.example/@fans{index}",
                             "created_at": (now - timedelta(days=2)).strftime("%Y-%m-%dT00:00:00.000Z")}
        status.update(id=str(first_id + index), content=SPAM_TEXT, media_attachments=[], reblog=None,
                      created_at=(now - timedelta(minutes=30 - index)).isoformat().replace("+00:00", "Z"))
        statuses.append(status)
    return statuses


@pytest.fixture
def wave():
    now = datetime.now(UTC)
    platform = FakePlatform()
    statuses = pool_campaign_timeline(now, platform.url)
    top = int(statuses[0]["id"])
    statuses = remote_campaign(statuses[-1], now, top + 1)[::-1] + statuses
    platform.route("GET", TIMELINE, Timeline(statuses, page_size=40))
    platform.route("GET", CAMPAIGN_IMAGE, Reply(200, raw=flyer_png(), headers={"content-type": "image/png"}))
    days = {s["account"]["id"]: s["account"]["created_at"] for s in statuses}
    admin = MastodonAdmin(platform, [], remote={account: "spam.example" for account in REMOTE})
    for number, account in enumerate(VOTERS):
        ip = "203.0.113.7" if number < 4 else f"198.51.100.{number}"
        admin.add_account(account, days[account].replace("T00:00:00.000", "T13:48:47.774"),
                          SignUpRecord(f"voter{number}@gmail.com", [ip], posts=3))
    for account in REMOTE:
        admin.add_account(account, days[account], domain="spam.example")
    first_voter = min(datetime.fromisoformat(days[a].replace("Z", "+00:00")) for a in VOTERS)
    dormant = [snowflake(first_voter + timedelta(hours=20 + n)) for n in range(2)]
    for account in dormant:
        created = datetime.fromtimestamp((int(account) >> 16) / 1000, UTC).isoformat()
        admin.add_account(account, created, SignUpRecord("sleeper@gmail.com", ["203.0.113.7"]))
    reports = [admin.file_report(VOTERS[0]), admin.file_report(VOTERS[1])]
    admin.follows["spam.example"] = 230
    admin.add_account("77001", now.isoformat())  # the new account that posts the campaign's picture again
    yield platform, admin, dormant, reports, statuses, now
    platform.close()


def _message(fake_slack, phrase: str, thread_ts: str | None = None):
    messages = fake_slack.thread("CMOD", thread_ts) if thread_ts else fake_slack.channel_messages("CMOD")
    return next((m for m in messages if phrase in json.dumps(m, ensure_ascii=False)), None)


def _button(message: dict, action_id: str) -> dict:
    return next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == action_id)


def _succeeded(store) -> list[str]:
    """The accounts (and domains) of every platform action the audit log records as done."""
    return sorted(e.account_id for e in store.audit_entries() if e.event == "action_ok")


def _posted(platform: FakePlatform, suffix: str) -> list:
    return [r for r in platform.requests if r.method == "POST" and r.path.endswith(suffix)]


def test_a_spam_wave_is_handled_from_slack_with_limit_reports_siblings_known_campaigns_and_a_domain_block(
        tmp_path: Path, slack_bot, fake_slack, wave):
    platform, admin, dormant, reports, statuses, now = wave
    bot = slack_bot(tmp_path, fake_slack, platform.url, source={"poll_seconds": 60},
                    mastodon={"hash_media": True})
    bot.env["MASTODON_WEBHOOK_SECRET"] = SECRET
    bot.start()
    slack = bot.slack
    card = wait_for(lambda: _message(fake_slack, "@voter0"), timeout=40)
    assert "2 reports on 2 of these accounts" in json.dumps(card["blocks"])
    siblings = wait_for(lambda: _message(fake_slack, "Siblings", card["ts"]), timeout=20)
    said = json.dumps(siblings)
    assert "shares a sign-up IP with 4 flagged accounts; never posted" in said and "203.0.113" not in said
    remote = wait_for(lambda: _message(fake_slack, "spam.example"), timeout=20)
    assert "5 of 5 accounts* come from `spam.example`; local accounts have *230 follows*" in json.dumps(remote)

    # Suspend all: every voter once, filed under its open report, which Mastodon resolves
    cluster = _button(card, ids.SUSPEND_ALL)["value"]
    assert slack.click(ids.SUSPEND_ALL, cluster, "UMOD1", card["ts"]).status_code == 200
    suspended = wait_for(lambda: len(_posted(platform, "/action")) >= 14 and _posted(platform, "/action"), timeout=20)
    assert sorted(r.path.split("/")[-2] for r in suspended) == sorted(VOTERS)
    assert sorted(r.form()["report_id"] for r in suspended if "report_id" in r.form()) == sorted(reports)
    assert admin.open_reports() == []

    # the siblings are limited from their own buttons
    slack.click(ids.LATE_LIMIT, _button(siblings, ids.LATE_LIMIT)["value"], "UMOD2", siblings["ts"])
    wait_for(lambda: all(admin.times(account, "silence") == 1 for account in dormant), timeout=15)

    # a new account posts the campaign's picture: pushed by webhook, flagged in the thread within seconds
    newbie = copy.deepcopy(next(s for s in statuses if s["media_attachments"] and s["account"]["id"] in VOTERS))
    newbie["account"] = {**newbie["account"], "id": "77001", "acct": "fresh1", "username": "fresh1",
                         "url": "https://mastodon.example/@fresh1"}
    newbie.update(id=str(int(statuses[0]["id"]) + 100), visibility="public",
                  content=f"<p>{POOL_MESSAGES[2]}</p>", created_at=now.isoformat().replace("+00:00", "Z"))
    body = json.dumps({"event": "status.created", "created_at": datetime.now(UTC).isoformat(),
                       "object": newbie}).encode()
    hook = f"http://127.0.0.1:{bot.port}{WEBHOOK_PATH}"
    pushed_at = time.monotonic()
    headers = {"X-Hub-Signature": signature_of(SECRET, body), "Content-Type": "application/json"}
    assert httpx.post(hook, content=body, headers=headers, timeout=10).status_code == 200
    known = wait_for(lambda: _message(fake_slack, "posted a known campaign image", card["ts"]), timeout=15)
    assert time.monotonic() - pushed_at < 10  # long before the next poll (60 s)
    assert httpx.post(hook, content=body, headers=headers, timeout=10).status_code == 401  # a replay
    slack.click(ids.LATE_SUSPEND, _button(known, ids.LATE_SUSPEND)["value"], "UMOD1", known["ts"])
    wait_for(lambda: admin.times("77001", "suspend") == 1, timeout=15)

    # the remote instance: asked by one moderator, approved by another, then undone
    domain_cluster = _button(remote, ids.DOMAIN_SUSPEND)["value"]
    slack.click(ids.DOMAIN_SUSPEND, domain_cluster, "UMOD1", remote["ts"])
    asked = wait_for(lambda: _message(fake_slack, "asked to suspend the domain"), timeout=15)
    slack.click(ids.APPROVE, _button(asked, ids.APPROVE)["value"], "UMOD2", remote["ts"])
    wait_for(lambda: admin.blocks, timeout=15)
    [block] = admin.blocks.values()
    assert block["domain"] == "spam.example" and block["severity"] == "suspend"
    done = wait_for(lambda: _message(fake_slack, "Suspended the domain `spam.example`"), timeout=15)
    slack.click(ids.UNDO, _button(done, ids.UNDO)["value"], "UMOD2", remote["ts"])
    wait_for(lambda: not admin.blocks, timeout=15)

    store = bot.store()
    try:
        expected = sorted([*VOTERS, *dormant, "77001", "spam.example", "spam.example"])  # the undo's lift too
        oks = wait_for(lambda: len(_succeeded(store)) >= len(expected) and _succeeded(store), timeout=15)
        assert oks == expected
        assert store.count("posts") == len(statuses) + 1
    finally:
        store.close()
    assert bot.stop() == 0
    log = bot.log()
    assert SECRET not in log and "mastodon-crash-token" not in log and "Traceback" not in log
    assert [kind for _, kind in admin.carried_out].count("suspend") == 15  # and nothing twice


def test_without_slack_the_webhooks_get_a_port_of_their_own_and_a_dry_run_is_said_at_start(tmp_path: Path,
                                                                                           bot_process):
    platform = FakePlatform()
    platform.route("GET", TIMELINE, Reply(200, []))
    try:
        (tmp_path / "chorus.toml").write_text(
            f'[storage]\npath = "chorus.db"\n[source]\nkind = "mastodon"\npoll_seconds = 60\n'
            f'[mastodon]\nbase_url = "{platform.url}"\nhash_media = false\n[slack]\nport = 0\n'
            f'[enforcement]\ndry_run = true\n[digest]\ndaily = ""\n')
        env = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_")}
        bot = bot_process(tmp_path, {**env, "MASTODON_WEBHOOK_SECRET": SECRET}).start()
        port = int(wait_for(lambda: WEBHOOK_PORT.search(bot.log()), timeout=30)[1])
        template = remote_campaign(recorded_statuses()[-1], datetime.now(UTC), 117300000000000000)
        for index, status in enumerate(template[:3]):
            status["account"] = {**status["account"], "acct": f"local{index}", "username": f"local{index}"}
            status["visibility"] = "public"
            body = json.dumps({"event": "status.created", "created_at": datetime.now(UTC).isoformat(),
                               "object": status}).encode()
            answer = httpx.post(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", content=body, timeout=10,
                                headers={"X-Hub-Signature": signature_of(SECRET, body)})
            assert answer.status_code == 200
        wait_for(lambda: "@local2" in bot.log(), timeout=15)  # the console card, long before the next poll
        assert bot.stop() == 0
        log = bot.log()
        assert "Chorus started as a dry run" in log and "nothing is sent to the platform" in log
        assert "listening for Slack" not in log and SECRET not in log
    finally:
        platform.close()
