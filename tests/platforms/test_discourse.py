"""The Discourse adapter against a fake forum (tests/discourse_forum.py) serving real recorded Discourse JSON
and real post HTML under Discourse's own server rules: 50 posts a page, `id < before`, API key scopes,
the admin API limiter, the suspension reason's 300 characters and the 409 of an already suspended user."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detectors import DetectionSettings, WindowIndex, detect
from domain.decisions import Action, DecisionStatus
from handlers import ids
from platforms.discourse import DiscourseEnforcer, DiscourseSource, default_avatar, headers
from platforms.enforcing import OnceOnly
from platforms.http import HttpClient, HttpSettings, RequestBudget
from platforms.paging import FeedSettings
from service import decisions
from service.decisions import UNKNOWN_STATE, Desk, Rules
from service.poller import Poller
from service.recovery import interrupted, resume
from storage import Store
from tests.conftest import MODERATORS, RecordingNotifier, running_bot
from tests.discourse_forum import Forum, ForumUser, campaign, fixture, recorded_page
from tests.platform_server import FakeClock, FakePlatform
from tests.slack_fakes import wait_for

FAST = HttpSettings(timeout_seconds=2, retries=2, backoff_seconds=0.01)
JOINED = datetime(2024, 5, 1, tzinfo=UTC)
"""When the recorded page's users joined (a page of posts does not say)."""
NOW = datetime(2026, 1, 22, 0, 0, tzinfo=UTC)
"""Just after the recorded page's newest post (2026-01-21 23:29)."""
LOW = DetectionSettings(min_accounts=3, min_score=0.2)
"""Three accounts copying a text, their ages not looked up, score about 0.3: enough for tests about other things."""
CAMPAIGN = "Candidate X is the ONLY one who will fix healthcare. Vote X on March 3 and tell your friends!"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW.timestamp())


@pytest.fixture
def forum(server: FakePlatform, clock: FakeClock) -> Forum:
    """The fake forum holding the real recorded page, answering every request of `server`."""
    forum = Forum(clock.time, keys={"k3y": None})
    forum.add_recorded(recorded_page(), JOINED)
    server.fallback(forum)
    return forum


def client(server: FakePlatform, clock: FakeClock, key: str = "k3y", username: str = "system",
           budget: RequestBudget | None = None, settings: HttpSettings = FAST) -> HttpClient:
    return HttpClient("discourse", server.url, settings, headers=headers(key, username), budget=budget,
                      now=clock.time, sleep=clock.sleep)


def source(http: HttpClient, server: FakePlatform, hours: float = 24 * 5, **kwargs) -> DiscourseSource:
    now = kwargs.pop("now", lambda: NOW)
    return DiscourseSource(http, server.url, FeedSettings(hours, 50), now=now, **kwargs)


def test_paging_real_pages_of_50_loses_and_repeats_nothing_across_arrivals_and_restarts(server, forum, clock):
    writer = forum.add_user(ForumUser(900, "writer", JOINED))
    cursor, seen = None, []
    for round_number in range(12):
        if round_number in (2, 5):  # more than a page arrives: a gap to fill going back
            for n in range(60 if round_number == 2 else 75):
                forum.post(writer, f"note {round_number}-{n}", NOW + timedelta(minutes=round_number, seconds=n))
        batch = source(client(server, clock), server, enrich=False).fetch(cursor, 40)  # a restart each round
        seen += [p.id for p in batch.posts]
        cursor = batch.next_cursor
    assert len(seen) == len(set(seen)) == 50 + 60 + 75
    assert sorted(seen) == sorted(str(p["id"]) for p in forum.posts)
    befores = [r.query["before"] for r in server.requests if "before" in r.query]
    assert befores and forum.served["posts#latest"] == len(server.requests)  # every page within the rules


def test_recorded_posts_become_posts_with_raw_text_links_images_and_avatars(server, clock):
    forum = Forum(clock.time)
    forum.add_recorded(fixture("discourse_api", "posts_latest.json")["latest_posts"], JOINED)
    server.fallback(forum)
    recorded = source(client(server, clock), server, hours=24 * 3000, now=lambda: datetime(2020, 1, 26, tzinfo=UTC),
                      enrich=False)
    posts = {p.id: p for p in recorded.fetch(None, 100).posts}
    assert set(posts) == {"15", "14", "10", "2"}
    assert posts["15"].text == "holla bullhonky." and posts["15"].author.handle == "johndoe"
    assert posts["15"].author.default_avatar is True and posts["10"].author.default_avatar is False
    welcome = posts["10"]
    assert [m.url for m in welcome.media] == ["http://localhost/images/welcome/discourse-edit-post-animated.gif"]
    assert "wrench" not in json.dumps([m.url for m in welcome.media])  # the emoji is not media
    assert welcome.author.created_at is None  # a post says nothing of when its author joined
    before, _ = client(server, clock).json("GET", "/posts.json", params={"before": 15})
    assert before == fixture("discourse_api", "posts_before.json")  # the fake pages as the recorded server did


def test_the_forums_rate_limiter_is_waited_out_by_its_retry_after(server, forum, clock):
    forum.keys["other"] = None
    other = client(server, clock, key="other")
    for _ in range(60):  # another integration spends the site's admin API minute
        other.json("GET", "/posts.json")
    result = source(client(server, clock), server, enrich=False).fetch(None, 100)
    assert len(result.posts) == 50 and clock.slept == [60.0]
    assert [status for status, _ in forum.refused] == [429]


def test_suspend_deactivate_and_undo_change_the_users_state_once(server, forum, clock):
    user = forum.users[198]
    moderation = OnceOnly(DiscourseEnforcer(client(server, clock), suspend_days=30, now=lambda: NOW))
    assert moderation.act(Action.SUSPEND, "198", "campaign", "d1:198").ok
    assert moderation.act(Action.SUSPEND, "198", "campaign", "d1:198").ok  # the same key: not sent again
    assert user.suspended_till == datetime(2026, 2, 21, tzinfo=UTC) and user.suspend_reason == "campaign"
    assert moderation.act(Action.REQUIRE_VERIFICATION, "198", "verify", "d2:198").ok and not user.active
    assert moderation.in_effect(Action.SUSPEND, "198") and moderation.in_effect(Action.REQUIRE_VERIFICATION, "198")
    assert moderation.act(Action.UNSUSPEND, "198", "", "d3:198").ok and user.suspended_till is None
    assert moderation.act(Action.LIFT_VERIFICATION, "198", "", "d4:198").ok and user.active
    assert [forum.served[a] for a in ("admin/users#suspend", "admin/users#deactivate", "admin/users#unsuspend",
                                      "admin/users#activate")] == [1, 1, 1, 1]


# -- 1. key scopes ---------------------------------------------------------------------------------

def test_the_scopes_the_docs_name_are_those_discourses_scope_table_allows(server, forum, clock):
    forum.keys.update({"old-docs": ["posts:list", "users:show", "users:suspend"],
                       "suspend-only": ["global:read", "users:suspend"]})
    refused = source(client(server, clock, key="old-docs"), server).fetch(None, 100)
    assert refused.posts == [] and "global:read" in refused.notices[0]  # what the old docs named cannot poll

    http = client(server, clock, key="suspend-only")
    forum_source = source(http, server)
    posts = forum_source.fetch(None, 100).posts
    assert len(posts) == 50
    [jarrod] = forum_source.look_up([next(p.author for p in posts if p.author.id == "198")])
    assert jarrod.created_at == JOINED and jarrod.posts_count == 8  # the admin view, allowed by global:read
    enforcer = DiscourseEnforcer(http, now=lambda: NOW)
    assert enforcer.act(Action.SUSPEND, "198", "campaign", "k1").ok
    undo = enforcer.act(Action.UNSUSPEND, "198", "", "k2")
    assert not undo.ok and "403" in undo.detail and "a global key" in undo.detail
    assert "You are not permitted" in undo.detail and "{" not in undo.detail
    assert forum.users[198].suspended_till is not None


def test_facts_come_from_public_profiles_where_the_admin_view_is_refused(server, forum, clock):
    forum.keys["read-only"] = ["global:read"]
    jarrod = source(client(server, clock, key="read-only", username="Jarrod"), server)  # not staff
    authors = list({p.author.id: p.author for p in jarrod.fetch(None, 100).posts}.values())
    found = jarrod.look_up(authors)
    assert {a.id for a in found} == {a.id for a in authors}
    assert all(a.created_at == JOINED and a.posts_count is not None for a in found)
    assert forum.refused == [(404, "/admin/users/1.json")]  # asked once, then the public profiles only
    assert forum.served["users#show"] == len(authors)
    notices = jarrod.fetch(None, 100).notices
    assert len(notices) == 1 and "/u/{username}.json" in notices[0] and "users:show" in notices[0]


def test_an_interrupted_action_whose_state_cannot_be_read_is_not_sent_again_until_retry(server, forum, clock,
                                                                                          tmp_path: Path):
    forum.keys["suspend-only"] = ["users:suspend"]  # may suspend, may not read the admin user view
    store = Store.open(tmp_path / "chorus.db")
    try:
        desk = Desk(store, OnceOnly(DiscourseEnforcer(client(server, clock, key="suspend-only"), now=lambda: NOW)),
                    Rules(two_person_threshold=5, undo_minutes=30))
        index = WindowIndex(LOW)
        users = campaign(forum, 700, 3, CAMPAIGN, NOW - timedelta(minutes=30), NOW - timedelta(days=2))
        posts = source(client(server, clock), server, hours=2, enrich=False).fetch(None, 100).posts
        store.ingest("discourse", posts, None)
        index.add(posts)
        store.sync_clusters(index.clusters())
        [cluster_id] = [row[0] for row in store.db.execute("SELECT id FROM clusters")]
        accounts = [str(u.id) for u in users]
        decision_id = store.claim_decision(cluster_id, Action.SUSPEND, accounts, MODERATORS[0], "campaign")
        key = decisions.idempotency_key(decision_id, Action.SUSPEND, accounts[0])
        store.claim_action(key, decision_id, accounts[0], Action.SUSPEND)  # the bot died during this call

        resume(desk, interrupted(store))
        decision = store.decision(decision_id)
        assert decision.status == DecisionStatus.FAILED and decision.failures == {accounts[0]: UNKNOWN_STATE}
        assert forum.served["admin/users#suspend"] == 2  # the two never tried; not the one cut short
        assert (403, f"/admin/users/{accounts[0]}.json") in forum.refused  # its state was asked, and refused

        assert decisions.retry(desk, decision_id, MODERATORS[1]) is None  # a moderator chose to send it
        assert store.decision(decision_id).status == DecisionStatus.DONE
        assert all(forum.users[u.id].suspended_till for u in users) and forum.served["admin/users#suspend"] == 3
    finally:
        store.close()


# -- 2. reason length ------------------------------------------------------------------------------

def test_the_reason_box_takes_what_discourse_takes(server, forum, clock, tmp_path, fake_slack):
    enforcer = DiscourseEnforcer(client(server, clock), now=lambda: NOW)
    too_long = enforcer.act(Action.SUSPEND, "198", "x" * 301, "k1")
    assert not too_long.ok and too_long.detail.endswith("(400): Reason is too long (maximum is 300 characters)")

    users = campaign(forum, 800, 3, CAMPAIGN, NOW - timedelta(minutes=30), NOW - timedelta(days=2))
    with running_bot(tmp_path, fake_slack, OnceOnly(enforcer)) as bot:
        posts = source(client(server, clock), server, hours=2, enrich=False).fetch(None, 100).posts
        bot.store.ingest("discourse", posts, None)
        index = WindowIndex(LOW)
        index.add(posts)
        bot.store.sync_clusters(index.clusters())
        bot.announce()
        [cluster_id] = [row[0] for row in bot.store.db.execute("SELECT id FROM clusters")]
        bot.slack.click(ids.REVIEW, cluster_id, "UMOD1", bot.card_ts(cluster_id))
        [opened] = wait_for(lambda: bot.fake.of("views.open"))
        view = opened.params["view"]
        [reason_box] = [b for b in view["blocks"] if b.get("block_id") == ids.REASON_BLOCK]
        assert reason_box["element"]["max_length"] == 300 and "300 characters" in reason_box["hint"]["text"]

        values = {"accounts_0": {ids.ACCOUNTS_ACTION: {"selected_options": [{"value": str(users[0].id)}]}},
                  f"{ids.GROUP_ACTION_PREFIX}0": {ids.ACTION_CHOICE: {"selected_option": {"value": "suspend"}}},
                  ids.POLICY_BLOCK: {ids.POLICY_SELECT: {"selected_option": {"value": "spam"}}},
                  ids.REASON_BLOCK: {ids.REASON_INPUT: {"value": "y" * 301}}}
        refused = bot.slack.submit(view, "UMOD1", values).json()
        assert refused["response_action"] == "errors" and "300" in refused["errors"][ids.REASON_BLOCK]
        values[ids.REASON_BLOCK] = {ids.REASON_INPUT: {"value": "y" * 300}}
        assert bot.slack.submit(view, "UMOD1", values).status_code == 200
        wait_for(lambda: forum.users[users[0].id].suspended_till is not None)
        assert forum.users[users[0].id].suspend_reason == "y" * 300


# -- 3. the author's own images and links -----------------------------------------------------------

def test_only_the_authors_own_images_and_links_become_media_and_urls(server, forum, clock):
    posts = {p.id: p for p in source(client(server, clock), server, enrich=False).fetch(None, 100).posts}
    page = {str(p["id"]): p for p in recorded_page()}
    quoting = [i for i, p in page.items() if 'class="avatar"' in p["cooked"]]
    assert len(quoting) == 32 and all(not posts[i].media or "user_avatar" not in posts[i].media[0].url
                                      for i in quoting)
    replies = posts["20184"]  # quotes Elliot twice (with his avatar) and uploads a picture in a lightbox
    upload = "https://discuss.criticalfallibilism.com/uploads/default/original/2X/1/1880b6795bacf6cc3f1e5243a827554f68afd084.png"
    assert [m.url for m in replies.media] == [upload] and replies.urls == ()
    assert "[quote" not in replies.text and "Tree what you can of it" not in replies.text
    tiktok = posts["20194"]  # two link previews with thumbnails
    assert tiktok.media == () and tiktok.urls == (
        "https://www.tiktok.com/@ericfixes/video/7596729990910496031",
        "https://www.tiktok.com/@shoppuregood/video/7595986130546330910")
    onebox = posts["20205"]  # a onebox with its site icon
    assert onebox.media == () and onebox.urls == ("https://cf-archiver.xk.io/archive/70",)
    elliot_avatar = "/user_avatar/discuss.criticalfallibilism.com/elliot/48/14_2.png"
    assert not any(elliot_avatar in m.url for p in posts.values() for m in p.media)
    assert not any(c.media for c in detect(list(posts.values()), DetectionSettings(min_accounts=3)))


# -- 4. default avatars ----------------------------------------------------------------------------

def test_letter_avatars_in_all_their_forms_are_default_avatars(server, forum, clock):
    forms = {
        "/letter_avatar_proxy/v4/letter/a/a87d85/{size}.png": True,  # the recorded forum's
        "/letter_avatar_proxy/v3/letter/p/df705f/{size}.png": True,  # the gem's recorded posts
        fixture("discourse_api", "user.json")["user"]["avatar_template"]: True,  # /letter_avatar/test/{size}/2.png
        "https://avatars.discourse-cdn.com/v4/letter/b/f08c70/{size}.png": True,  # a hosted forum's
        "/forum/letter_avatar_proxy/v4/letter/j/e480ec/{size}.png": True,  # under a subfolder
        "https://sea1.discourse-cdn.com/business4/letter_avatar_proxy/v4/letter/m/a88e4f/{size}.png": True,
        "/user_avatar/discuss.criticalfallibilism.com/elliot/{size}/14_2.png": False,  # uploaded
        "/user_avatar/localhost/system/{size}/1_2.png": False,
    }
    assert {template: default_avatar({"avatar_template": template}) for template in forms} == forms
    assert default_avatar(fixture("discourse_api", "post.json")) is False  # uploaded_avatar_id 1 says so
    assert default_avatar(fixture("discourse_api_docs", "get_user_response.json")["user"]) is True  # null
    campaign(forum, 600, 3, CAMPAIGN, NOW - timedelta(minutes=30), NOW - timedelta(days=2))
    posts = source(client(server, clock), server, hours=2, enrich=False).fetch(None, 100).posts
    assert {p.author.default_avatar for p in posts if int(p.author.id) >= 600} == {True}  # hosted letter avatars
    [cluster] = detect(posts, LOW)
    assert "100% use the default avatar" in cluster.reasons


# -- 5. lookups and the request budget ---------------------------------------------------------------

def test_lookups_only_for_candidate_accounts_within_their_share_and_filled_in_later(server, forum, clock,
                                                                                      tmp_path: Path):
    start = NOW + timedelta(hours=2)
    texts = [line for p in recorded_page() for line in p["raw"].split("\n\n") if 60 < len(line) < 400]
    readers = [forum.add_user(ForumUser(300 + n, f"reader{n}", JOINED)) for n in range(20)]
    for n, reader in enumerate(readers):  # twenty old accounts, each posting a real paragraph of its own
        forum.post(reader, texts[n], start - timedelta(minutes=50 - n))
    voters = campaign(forum, 500, 40, CAMPAIGN, start - timedelta(minutes=45), start - timedelta(days=2))
    budget = RequestBudget(60, 60, clock.time)  # Discourse's admin API minute
    store = Store.open(tmp_path / "chorus.db")
    try:
        poller = Poller(store, source(client(server, clock, budget=budget), server, hours=1, now=lambda: start),
                        WindowIndex(DetectionSettings(min_score=0.3)), RecordingNotifier())
        first = poller.poll_once()
        assert first.fetched == 60 and forum.served["posts#latest"] == 3  # the newest page, the next, the newest again
        assert forum.served["admin/users#show"] == first.filled == 27  # 60 less the 30 kept for reading, less 3 read
        asked = {r.path for r in server.requests if r.path.startswith("/admin/users/")}
        assert asked <= {f"/admin/users/{v.id}.json" for v in voters}  # the campaign's accounts only

        forum.post(readers[0], texts[30], start + timedelta(seconds=5))  # a post arrives at once
        second = poller.poll_once()
        assert second.fetched == 1 and second.filled == 0 and clock.slept == []  # read at once, no waiting

        clock.sleep(61)
        third = poller.poll_once()
        assert third.filled == 13 and forum.served["admin/users#show"] == 40
        [cluster_id] = [row[0] for row in store.db.execute("SELECT id FROM clusters")]
        view = store.cluster_view(cluster_id)
        assert len(view.accounts) == 40 and all(a.age_days_at_post is not None for a in view.accounts)
        assert any("young when they posted" in reason for reason in view.reasons)  # scored again with the ages
        [flagged] = [e.detail["score"] for e in store.audit_entries() if e.event == "cluster_flagged"]
        assert flagged < 0.5 < view.score and view.card_version >= 1  # flagged without ages; its card would update
        stored = [p for p in store.posts_since(start - timedelta(hours=2)) if int(p.author.id) >= 500]
        assert len(stored) == 40 and all(p.author.created_at is not None for p in stored)  # a restart has them
    finally:
        store.close()


def test_a_stalled_poll_is_reported_once_and_its_end_once(server, forum, clock, tmp_path: Path):
    forum.keys["other"] = None
    impatient = HttpSettings(timeout_seconds=2, retries=2, backoff_seconds=0.01, max_wait_seconds=10)
    store = Store.open(tmp_path / "chorus.db")
    notices = RecordingNotifier()
    try:
        poller = Poller(store, source(client(server, clock, settings=impatient), server), WindowIndex(), notices)
        other = client(server, clock, key="other")
        for _ in range(60):  # another integration spends the site's admin API minute
            other.json("GET", "/posts.json")
        for _ in range(3):
            assert poller.poll_once().fetched == 0
        assert len(notices.notices) == 1 and "held back by a rate limit" in notices.notices[0]
        clock.sleep(61)
        assert poller.poll_once().fetched == 50
        assert len(notices.notices) == 2 and "works again" in notices.notices[1]
    finally:
        store.close()


# -- 6. already suspended ------------------------------------------------------------------------

def test_suspending_an_already_suspended_user_is_already_in_effect(server, forum, clock):
    forum.users[151].suspended_till, forum.users[151].suspended_by = datetime(2027, 1, 1, tzinfo=UTC), "system"
    result = DiscourseEnforcer(client(server, clock), now=lambda: NOW).act(Action.SUSPEND, "151", "campaign", "k")
    said = "User was already suspended by system just now."
    assert result.ok and result.detail == f"already suspended on Discourse ({said})"
    assert forum.refused == [(409, "/admin/users/151/suspend.json")]
    assert forum.users[151].suspended_till == datetime(2027, 1, 1, tzinfo=UTC)  # untouched
