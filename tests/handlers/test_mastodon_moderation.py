"""What Mastodon admins asked for during spam waves, from the card: Limit, open reports counted and resolved, dry
runs, a remote domain's block with two moderators, known campaigns and siblings in the thread with their own
buttons. Signed clicks over HTTP against the fake Slack; the bot acts through the real Mastodon adapter on the fake
Mastodon (tests/platform_server.py `MastodonAdmin`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from detectors import WindowIndex
from domain.models import Author, Post
from handlers import ids
from platforms.enforcing import OnceOnly
from platforms.jsonl import JsonlSource
from platforms.mastodon import MastodonEnforcer
from platforms.settings import MastodonConfig
from service.config import EnforcementConfig, SourceConfig
from service.open_reports import refresh_open_reports
from service.poller import Poller
from service.remote_domains import count_domain_follows
from service.siblings import look_for_siblings
from tests.conftest import START, add_posts, running_bot, seed_cluster
from tests.handlers.test_commands import _reply
from tests.platform_server import MastodonAdmin, SignUpRecord, snowflake
from tests.platforms.test_mastodon import client, source
from tests.slack_fakes import wait_for


@pytest.fixture
def mastodon_bot(tmp_path, fake_slack, server):
    """The Slack runtime acting through the Mastodon adapter on the fake Mastodon, its cards linking its admin."""
    sections = {"source": SourceConfig(kind="mastodon", outbox=str(tmp_path / "actions.jsonl")),
                "mastodon": MastodonConfig(base_url=server.url)}
    with running_bot(tmp_path, fake_slack, OnceOnly(MastodonEnforcer(client(server))), sections=sections) as bot:
        yield bot


def _buttons(blocks) -> dict[str, dict]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def _card_update(harness, ts: str, phrase: str):
    return lambda: [c for c in harness.fake.of("chat.update")
                    if c.params["ts"] == ts and phrase in json.dumps(c.params, ensure_ascii=False)]


def _actions(server) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path.endswith("/action")]


def test_limit_all_silences_every_account_under_its_open_report_and_the_card_counts_them_until_resolved(
        mastodon_bot, server):
    harness = mastodon_bot
    cid = seed_cluster(harness.store, "m", 4)
    admin = MastodonAdmin(server, [f"m-a{i}" for i in range(4)])
    reports = [admin.file_report("m-a1"), admin.file_report("m-a2")]
    assert refresh_open_reports(harness.store, source(server)) == 1
    harness.announce()
    [card] = harness.fake.of("chat.postMessage")
    shown = json.dumps(card.params["blocks"])
    assert "Open reports:* 2 reports on 2 of these accounts" in shown
    assert f"{server.url}/admin/reports/{reports[1]}|newest report" in shown
    buttons = _buttons(card.params["blocks"])
    assert buttons[ids.LIMIT_ALL]["confirm"]["text"]["text"].startswith("Limit 4 accounts?")

    harness.slack.click(ids.LIMIT_ALL, cid, "UMOD1", harness.card_ts(cid))
    wait_for(_card_update(harness, harness.card_ts(cid), "Limited 4 accounts"))
    sent = _actions(server)
    assert sorted(r.path.split("/")[-2] for r in sent) == [f"m-a{i}" for i in range(4)]
    assert {r.form()["type"] for r in sent} == {"silence"}
    assert sorted(r.form().get("report_id") for r in sent if "report_id" in r.form()) == sorted(reports)
    assert admin.open_reports() == [] and harness.store.cluster_view(cid).reports is None
    assert "Open reports" not in json.dumps(harness.fake.of("chat.update")[-1].params)
    assert harness.store.cluster_view(cid).status == "limited"

    decision = harness.store.decisions_for(cid)[0]
    harness.slack.click(ids.UNDO, ids.button_value(cid, decision.id), "UMOD2", harness.card_ts(cid))
    wait_for(lambda: len([r for r in server.requests if r.path.endswith("/unsilence")]) == 4)
    wait_for(lambda: harness.store.cluster_view(cid).status == "open")
    events = [e.event for e in harness.store.audit_entries()]
    assert events.count("action_ok") == 8 and "decision_undone" in events


def test_a_dry_run_is_stamped_and_audited_and_sends_nothing_to_mastodon(tmp_path, fake_slack, server):
    admin = MastodonAdmin(server, [f"dr-a{i}" for i in range(3)])
    sections = {"enforcement": EnforcementConfig(dry_run=True)}
    with running_bot(tmp_path, fake_slack, OnceOnly(MastodonEnforcer(client(server))), sections=sections) as harness:
        cid = seed_cluster(harness.store, "dr", 3)
        harness.announce()
        [card] = harness.fake.of("chat.postMessage")
        assert "Dry run: decisions are recorded and shown, but nothing is sent" in json.dumps(card.params)
        harness.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", harness.card_ts(cid))
        [stamped] = wait_for(_card_update(harness, harness.card_ts(cid), "Dry run: would have suspended 3 accounts"))
        assert "Nothing was sent to the platform" in json.dumps(stamped.params)
        decision = harness.store.decisions_for(cid)[0]
        assert decision.dry_run and decision.status == "done"
        harness.slack.click(ids.UNDO, ids.button_value(cid, decision.id), "UMOD1", harness.card_ts(cid))
        wait_for(lambda: harness.store.cluster_view(cid).status == "open")
        assert [r for r in server.requests if r.method == "POST"] == [] and admin.carried_out == []
        oks = [e for e in harness.store.audit_entries() if e.event == "action_ok"]
        assert len(oks) == 6 and all("dry run" in e.detail["detail"] for e in oks)


def _remote_cluster(harness, domain: str, accounts: int) -> str:
    posts = [Post(id=f"rd-p{i}", created_at=START + timedelta(minutes=i), text="Buy followers now at cheap.example",
                  author=Author(id=f"rd-a{i}", handle=f"bot{i}@{domain}")) for i in range(accounts)]
    return add_posts(harness.store, "rd", posts)


def test_a_remote_domain_is_blocked_only_with_a_second_moderator_and_undo_lifts_the_block(mastodon_bot, server):
    harness = mastodon_bot
    cid = _remote_cluster(harness, "spam.example", 4)
    admin = MastodonAdmin(server, [])
    admin.follows["spam.example"] = 230
    assert count_domain_follows(harness.store, source(server)) == 1
    harness.announce()
    [card] = harness.fake.of("chat.postMessage")
    shown = json.dumps(card.params["blocks"])
    assert "4 of 4 accounts* come from `spam.example`; local accounts have *230 follows*" in shown
    assert {ids.DOMAIN_LIMIT, ids.DOMAIN_SUSPEND} <= set(_buttons(card.params["blocks"]))

    ts = harness.card_ts(cid)
    harness.slack.click(ids.DOMAIN_SUSPEND, cid, "UMOD1", ts)
    wait_for(_card_update(harness, ts, "asked to suspend the domain `spam.example`"))
    decision = harness.store.decisions_for(cid)[0]
    harness.slack.click(ids.APPROVE, ids.button_value(cid, decision.id), "UMOD1", ts)  # not their own request
    wait_for(lambda: harness.fake.of("chat.postEphemeral"))
    assert server.sent("POST", "/api/v1/admin/domain_blocks") == []
    harness.slack.click(ids.APPROVE, ids.button_value(cid, decision.id), "UMOD2", ts)
    wait_for(_card_update(harness, ts, "Suspended the domain `spam.example`"))
    [block] = server.sent("POST", "/api/v1/admin/domain_blocks")
    assert block.form()["domain"] == "spam.example" and block.form()["severity"] == "suspend"
    assert harness.store.cluster_view(cid).status == "suspended"

    harness.slack.click(ids.UNDO, ids.button_value(cid, decision.id), "UMOD2", ts)
    wait_for(lambda: admin.blocks == {} and harness.store.cluster_view(cid).status == "open")
    assert admin.carried_out == [("spam.example", "domain_block:suspend"), ("spam.example", "domain_unblock")]


def test_a_known_campaign_posted_again_by_one_new_account_is_flagged_in_the_thread_with_its_own_buttons(harness):
    cid = seed_cluster(harness.store, "kc", 3, text="Candidate X is the ONLY one who will fix healthcare, vote X")
    harness.announce()
    ts = harness.card_ts(cid)
    harness.slack.click(ids.SUSPEND_ALL, cid, "UMOD1", ts)
    wait_for(lambda: harness.store.cluster_view(cid).status == "suspended"
             and harness.store.decisions_for(cid)[0].status == "done")
    [fingerprint] = harness.store.active_fingerprints()
    assert fingerprint.kind == "text" and fingerprint.cluster_id == cid

    feed = harness.outbox.parent / "feed.jsonl"
    feed.write_text("")
    poller = Poller(harness.store, JsonlSource(feed), WindowIndex(), harness.runtime.notifier)
    newcomer = Post(id="kc-new", created_at=START + timedelta(hours=2), author=Author(id="kc-new-a", handle="fresh1"),
                    text="candidate x is the only one who will FIX healthcare!! vote X #now")
    assert poller.push([newcomer]) == 1 and poller.take_pushed() == 1
    [grew, reply] = wait_for(lambda: len(harness.fake.thread("CMOD", ts)) == 2 and harness.fake.thread("CMOD", ts))
    assert "Cluster grew: +1 account" in grew["text"] and ids.LATE_SUSPEND not in json.dumps(grew)  # within the window
    assert "1 account flagged for posting a known campaign's content has buttons of their own" in json.dumps(grew)
    assert "posted a known campaign text" in json.dumps(reply["blocks"]) and "@fresh1" in json.dumps(reply["blocks"])
    value = _buttons(reply["blocks"])[ids.LATE_SUSPEND]["value"]
    harness.slack.click(ids.LATE_SUSPEND, value, "UMOD2", reply["ts"])
    wait_for(lambda: [c for c in harness.fake.of("chat.update") if c.params["ts"] == reply["ts"]
                      and "Suspended 1 account" in json.dumps(c.params)])
    assert [line["account_id"] for line in harness.outbox_lines()][-1] == "kc-new-a"
    assert harness.store.active_fingerprints()[0].matches == 1

    listed = _reply(harness.slack.command("fingerprints", "UMOD1"))
    assert f"#{fingerprint.id}" in listed and "1 match," in listed and "candidate x is the only one" in listed
    assert "No fingerprint `#99`" in _reply(harness.slack.command("fingerprints remove 99", "UMOD1"))
    removed = _reply(harness.slack.command(f"fingerprints remove {fingerprint.id}", "UMOD1"))
    assert f"Removed `#{fingerprint.id}`" in removed and harness.store.active_fingerprints() == []
    assert [e.actor for e in harness.store.audit_entries() if e.event == "fingerprint_removed"] == ["UMOD1"]


def test_siblings_sharing_a_sign_up_ip_are_listed_without_it_and_limited_from_their_own_buttons(mastodon_bot, server):
    harness = mastodon_bot
    created = datetime(2026, 2, 10, tzinfo=UTC)
    flagged = [snowflake(created + timedelta(hours=i)) for i in range(3)]  # Mastodon's ids are creation times
    cid = add_posts(harness.store, "sb", [
        Post(id=f"sb-p{i}", created_at=START + timedelta(minutes=i), text="Vote X on March 3! #VoteX",
             author=Author(id=account, handle=f"voter{i}")) for i, account in enumerate(flagged)])
    admin = MastodonAdmin(server, [])
    for i, account in enumerate(flagged):
        admin.add_account(account, (created + timedelta(hours=i)).isoformat(),
                          SignUpRecord(f"voter{i}@gmail.com", ["203.0.113.7" if i < 2 else "198.51.100.1"], posts=3))
    dormant = snowflake(created + timedelta(hours=5))
    admin.add_account(dormant, (created + timedelta(hours=5)).isoformat(), SignUpRecord("z@gmail.com", ["203.0.113.7"]))
    unrelated = snowflake(created + timedelta(hours=6))
    admin.add_account(unrelated, (created + timedelta(hours=6)).isoformat(),
                      SignUpRecord("q@gmail.com", ["192.0.2.55"], posts=40))
    harness.announce()
    assert look_for_siblings(harness.store, source(server), 24) == 1
    assert look_for_siblings(harness.store, source(server), 24) == 0  # once per cluster
    harness.announce()
    [reply] = wait_for(lambda: harness.fake.thread("CMOD", harness.card_ts(cid)))
    said = json.dumps(reply)
    assert "shares a sign-up IP with 2 flagged accounts; never posted" in said
    assert "203.0.113" not in said and "gmail" not in said and unrelated not in said
    harness.slack.click(ids.LATE_LIMIT, _buttons(reply["blocks"])[ids.LATE_LIMIT]["value"], "UMOD1", reply["ts"])
    wait_for(lambda: admin.times(dormant, "silence") == 1)
    assert [a for a, kind in admin.carried_out] == [dormant]
    assert harness.store.cluster_view(cid).status == "open"  # the cluster waits for its own decision
