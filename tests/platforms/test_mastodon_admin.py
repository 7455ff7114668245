"""Mastodon's admin API beyond suspending: Limit, reports filed and resolved with an action, domain blocks, the
v2 account list a sibling search reads, and measures; against the fake Mastodon serving recorded and documented
responses under Mastodon's own rules (tests/platform_server.py `MastodonAdmin`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.decisions import Action
from platforms.base import Case
from platforms.mastodon import TIMELINE, MastodonEnforcer, MastodonSource
from platforms.mastodon_admin import sign_up_of, snowflake_at
from tests.platform_server import (
    FakePlatform,
    MastodonAdmin,
    Reply,
    SignUpRecord,
    Timeline,
    recorded_statuses,
    snowflake,
)
from tests.platforms.test_mastodon import NOW, client, source


def notices_of(mastodon: MastodonSource, server: FakePlatform) -> list[str]:
    """What the source tells the moderators with its next batch (an empty timeline here)."""
    server.route("GET", TIMELINE, Reply(200, []))
    return mastodon.fetch(None, 10).notices


def test_limit_silences_under_the_open_report_which_mastodon_then_resolves_and_undo_unsilences(server):
    admin = MastodonAdmin(server, ["41", "42"])
    first, second = admin.file_report("41"), admin.file_report("41")
    other = admin.file_report("42")
    moderation = MastodonEnforcer(client(server))
    result = moderation.act_on_case(Action.LIMIT, "41", "spam wave", "d1:limit:41", Case("c-1", reports={"41": second}))
    assert result.ok and f"report {second}" in result.detail
    [sent] = server.sent("POST", "/api/v1/admin/accounts/41/action")
    assert sent.form() == {"type": "silence", "text": "spam wave", "send_email_notification": "true",
                           "report_id": second}
    assert admin.open_reports() == [other]  # both reports about 41 resolved, the one about 42 still open
    assert first not in admin.open_reports()
    assert moderation.in_effect(Action.LIMIT, "41") is True and moderation.in_effect(Action.UNLIMIT, "41") is False
    assert moderation.act(Action.UNLIMIT, "41", "", "d2:unlimit:41").ok
    assert len(server.sent("POST", "/api/v1/admin/accounts/41/unsilence")) == 1
    assert moderation.in_effect(Action.LIMIT, "41") is False
    assert admin.times("41", "silence") == admin.times("41", "unsilence") == 1


def test_open_reports_are_read_page_by_page_and_a_missing_scope_is_reported_once_by_name(server):
    admin = MastodonAdmin(server, [str(n) for n in range(250)])
    for account in range(250):
        admin.file_report(str(account))
    mastodon = source(server)
    reports = mastodon.open_reports()
    assert len(reports) == 250 and {r.account_id for r in reports} == {str(n) for n in range(250)}
    assert len(server.sent("GET", "/api/v1/admin/reports")) == 2  # 200 a page, then the rest
    assert all(r.query["resolved"] == "false" for r in server.sent("GET", "/api/v1/admin/reports"))

    admin.missing_scopes.add("admin:read:reports")
    assert mastodon.open_reports() is None and mastodon.open_reports() is None
    assert len(server.sent("GET", "/api/v1/admin/reports")) == 3  # no request after the refusal
    assert len([n for n in notices_of(mastodon, server) if "admin:read:reports" in n]) == 1


def test_sign_ups_give_the_first_ip_and_the_email_domain_and_the_window_is_read_by_id(server):
    start = datetime(2026, 7, 30, tzinfo=UTC)
    admin = MastodonAdmin(server, [])
    inside = [snowflake(start + timedelta(hours=h)) for h in (1, 5, 9)]
    before, after = snowflake(start - timedelta(days=3)), snowflake(start + timedelta(days=3))
    for number, account in enumerate([*inside, before, after]):
        created = datetime.fromtimestamp((int(account) >> 16) / 1000, UTC).isoformat().replace("+00:00", "Z")
        admin.add_account(account, created, SignUpRecord(f"u{number}@Spam-Mail.example", ["10.0.0.9", "10.9.9.9"]))
    admin.add_account("77", None, None, domain="remote.example")
    found = source(server).local_sign_ups(start, start + timedelta(hours=12))
    assert sorted(s.account_id for s in found) == sorted(inside)
    [query] = [r.query for r in server.sent("GET", "/api/v2/admin/accounts")]
    assert query["origin"] == "local" and query["since_id"] == snowflake_at(start)
    assert {s.ip for s in found} == {"10.0.0.9"} and {s.email_domain for s in found} == {"spam-mail.example"}
    assert sign_up_of(admin.record("77")) is None  # a remote account has no sign-up here


def test_domain_blocks_are_made_once_read_back_and_undo_lifts_only_a_block_chorus_made(server):
    admin = MastodonAdmin(server, [])
    moderation = MastodonEnforcer(client(server))
    assert moderation.in_effect(Action.DOMAIN_SUSPEND, "spam.example") is False
    made = moderation.act(Action.DOMAIN_SUSPEND, "spam.example", "campaign", "d5:domain_suspend:spam.example")
    assert made.ok and "suspend" in made.detail
    [sent] = server.sent("POST", "/api/v1/admin/domain_blocks")
    assert sent.form()["severity"] == "suspend" and sent.form()["private_comment"].startswith("chorus d5:")
    again = moderation.act(Action.DOMAIN_LIMIT, "spam.example", "campaign", "d6:domain_limit:spam.example")
    assert again.ok and "already" in again.detail  # Mastodon's 422: a suspension already covers a limit
    assert moderation.in_effect(Action.DOMAIN_LIMIT, "spam.example") is True
    assert moderation.act(Action.DOMAIN_UNBLOCK, "spam.example", "", "d7:domain_unblock:spam.example").ok
    assert admin.blocks == {} and moderation.in_effect(Action.DOMAIN_UNBLOCK, "spam.example") is True

    admin.blocks["9"] = {"id": "9", "domain": "older.example", "severity": "silence", "private_comment": "by hand"}
    kept = moderation.act(Action.DOMAIN_UNBLOCK, "older.example", "", "d8:domain_unblock:older.example")
    assert not kept.ok and kept.unsupported and "not made by Chorus" in kept.detail and "9" in admin.blocks
    weaker = moderation.act(Action.DOMAIN_SUSPEND, "older.example", "", "d9:domain_suspend:older.example")
    assert not weaker.ok and "weaker block" in weaker.detail


def test_local_follows_of_a_domain_come_from_the_instance_follows_measure(server):
    admin = MastodonAdmin(server, [])
    admin.follows["spam.example"] = 230
    mastodon = source(server)
    assert mastodon.local_follows("spam.example") == 230
    [sent] = server.sent("POST", "/api/v1/admin/measures")
    assert sent.form()["keys[]"] == "instance_follows" and sent.form()["instance_follows[domain]"] == "spam.example"
    admin.missing_scopes.add("admin:read")
    assert mastodon.local_follows("other.example") is None
    assert any("admin:read scope" in n for n in notices_of(mastodon, server))


def test_a_pushed_status_is_wanted_only_when_public_and_in_the_polled_timeline(server):
    mastodon = source(server)
    local = {"visibility": "public", "account": {"acct": "voter1"}}
    assert mastodon.wants_pushed(local)
    assert not mastodon.wants_pushed({**local, "visibility": "unlisted"})
    assert mastodon.wants_pushed({**local, "account": {"acct": "someone@remote.example"}})


def test_a_looked_up_accounts_next_status_is_read_with_its_exact_creation_time(server):
    statuses = recorded_statuses()
    server.route("GET", TIMELINE, Timeline(statuses))
    author_id = statuses[0]["account"]["id"]
    MastodonAdmin(server, [author_id], {author_id: "2026-07-20T09:15:00.000Z"})
    mastodon = source(server, enrich=True)
    [author] = [p.author for p in mastodon.fetch(None, 1000).posts if p.author.id == author_id][:1]
    [filled] = mastodon.look_up([author])
    again = mastodon.to_post(statuses[0])  # a later status of the same account is still read, not skipped
    assert again.author.created_at == filled.created_at == datetime(2026, 7, 20, 9, 15, tzinfo=UTC)


def test_without_admin_read_accounts_lookups_and_sibling_searches_stop_with_one_notice(server):
    statuses = recorded_statuses()
    server.route("GET", TIMELINE, Timeline(statuses))
    author_id = statuses[0]["account"]["id"]
    admin = MastodonAdmin(server, [author_id])
    admin.missing_scopes.add("admin:read:accounts")
    mastodon = source(server, enrich=True)
    [author] = [p.author for p in mastodon.fetch(None, 1000).posts if p.author.id == author_id][:1]
    assert mastodon.look_up([author]) == []
    before = len(server.requests)
    assert mastodon.sign_ups([author_id]) is None and mastodon.local_sign_ups(NOW, NOW) is None
    assert len(server.requests) == before  # not asked again
    notices = [n for n in notices_of(mastodon, server) if "admin:read:accounts" in n]
    assert len(notices) == 1 and "nor searched for siblings" in notices[0]
