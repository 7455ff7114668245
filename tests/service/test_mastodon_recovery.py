"""The new actions are idempotent across crashes: a Limit or a domain block cut short after it reached Mastodon is
read back (`silenced`, the domain blocks) on restart and recorded as done without being sent again, and a
decision taken in a dry run is never sent, even when the bot restarts without the dry run."""

from __future__ import annotations

from datetime import timedelta

from domain.decisions import Action, DecisionStatus
from domain.models import Author, Post
from platforms.enforcing import OnceOnly
from platforms.mastodon import MastodonEnforcer
from service.decisions import Desk, Rules, idempotency_key
from service.recovery import interrupted, resume
from storage import Store
from tests.conftest import START, add_posts, seed_cluster
from tests.platform_server import MastodonAdmin
from tests.platforms.test_mastodon import client


def _half_done(store: Store, cluster_id: str, action: Action, accounts: list[str], dry_run: bool = False) -> int:
    """A decision whose platform calls were claimed and then the bot died, before any result was recorded."""
    decision_id = store.record_decision(cluster_id, action, accounts, "UMOD1", dry_run=dry_run)
    store.move_decision(decision_id, DecisionStatus.EXECUTING, "UMOD1")
    for account in accounts:
        store.claim_action(idempotency_key(decision_id, action, account), decision_id, account, action)
    return decision_id


def test_a_limit_that_reached_mastodon_before_the_crash_is_read_back_not_sent_again(tmp_path, server):
    store = Store.open(tmp_path / "chorus.db")
    cid = seed_cluster(store, "rl", 2)
    admin = MastodonAdmin(server, ["rl-a0", "rl-a1"])
    admin.state["rl-a0"]["silenced"] = True  # the call went through; the answer never came back
    decision = _half_done(store, cid, Action.LIMIT, ["rl-a0", "rl-a1"])
    desk = Desk(store, OnceOnly(MastodonEnforcer(client(server))), Rules(25, 30))
    assert resume(desk, interrupted(store)) == [decision]
    assert store.decision(decision).status == DecisionStatus.DONE
    assert admin.times("rl-a0", "silence") == 0  # read back as limited: not sent again
    assert admin.times("rl-a1", "silence") == 1  # read back as not limited: sent once now
    assert admin.state["rl-a0"]["silenced"] and admin.state["rl-a1"]["silenced"]
    details = {e.account_id: e.detail["detail"] for e in store.audit_entries() if e.event.startswith("action_")}
    assert "already in effect" in details["rl-a0"] and "state unknown" not in details["rl-a0"]
    store.close()


def test_a_domain_block_cut_short_is_found_in_the_block_list_and_recorded_once(tmp_path, server):
    store = Store.open(tmp_path / "chorus.db")
    cid = add_posts(store, "rb", [Post(id=f"rb-p{i}", created_at=START + timedelta(minutes=i), text="buy now",
                                       author=Author(id=f"rb-a{i}", handle=f"b{i}@spam.example")) for i in range(3)])
    admin = MastodonAdmin(server, [])
    admin.blocks["1"] = {"id": "1", "domain": "spam.example", "severity": "suspend", "private_comment": "chorus d1"}
    decision = _half_done(store, cid, Action.DOMAIN_SUSPEND, ["spam.example"])
    desk = Desk(store, OnceOnly(MastodonEnforcer(client(server))), Rules(25, 30))
    resume(desk, interrupted(store))
    assert store.decision(decision).status == DecisionStatus.DONE
    assert server.sent("POST", "/api/v1/admin/domain_blocks") == []
    store.close()


def test_a_dry_run_decision_resumed_after_a_restart_without_the_dry_run_is_still_not_sent(tmp_path, server):
    store = Store.open(tmp_path / "chorus.db")
    cid = seed_cluster(store, "rd", 2)
    admin = MastodonAdmin(server, ["rd-a0", "rd-a1"])
    decision = _half_done(store, cid, Action.SUSPEND, ["rd-a0", "rd-a1"], dry_run=True)
    desk = Desk(store, OnceOnly(MastodonEnforcer(client(server))), Rules(25, 30, dry_run=False))
    resume(desk, interrupted(store))
    assert store.decision(decision).status == DecisionStatus.DONE and admin.carried_out == []
    assert [r for r in server.requests if r.method == "POST"] == []
    store.close()
