"""The Bluesky adapter: Jetstream over a real WebSocket on 127.0.0.1, the AppView and Ozone over real HTTP,
serving production Jetstream v1 events and lexicon-shaped replies (tests/fixtures/bluesky)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.decisions import Action
from domain.models import Author, Cluster, Post
from platforms.base import Case, act, in_effect
from platforms.bluesky import BlueskySource, JetstreamSettings, ProfileCache, cid_sha256, subscribe_url
from platforms.enforcing import OnceOnly
from platforms.http import HttpClient, HttpSettings
from platforms.ozone import EMIT, NoOzone, OzoneEnforcer
from service.config import ConfigError, parse_config
from service.poller import Poller
from storage import Store
from tests.bluesky_fakes import (
    FakeAppView,
    FakeJetstream,
    FakeOzone,
    fixture,
    post_creates,
    post_event,
    profile,
    recorded_events,
)
from tests.platform_server import FakePlatform, Reply
from tests.slack_fakes import wait_for

FAST = HttpSettings(timeout_seconds=2, retries=2, backoff_seconds=0.01, backoff_max_seconds=0.05)
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


@pytest.fixture
def jetstream() -> Iterator[FakeJetstream]:
    fake = FakeJetstream()
    yield fake
    fake.close()


@pytest.fixture
def appview(server: FakePlatform) -> FakeAppView:
    return FakeAppView(server, fixture("appview_getProfiles.json")["profiles"])


def make_source(jetstream: FakeJetstream, server: FakePlatform, cache: int = 1000, **settings) -> BlueskySource:
    options = {"backoff_seconds": 0.02, "backoff_max_seconds": 0.1, "report_down_after_seconds": 0.3, **settings}
    source = BlueskySource(JetstreamSettings(jetstream.url, **options),
                           ProfileCache(HttpClient("bluesky", server.url, FAST), cache))
    return source


@pytest.fixture
def sources(jetstream: FakeJetstream, server: FakePlatform, appview: FakeAppView) -> Iterator[list[BlueskySource]]:
    made: list[BlueskySource] = []
    yield made
    for source in made:
        source.close()


def fetch_until(source: BlueskySource, cursor: str | None, count: int, limit: int = 10_000,
                timeout: float = 10) -> tuple[list[Post], str | None, list[str]]:
    """Fetch until `count` posts came (as polls would), returning them, the last cursor and the notices."""
    posts: list[Post] = []
    notices: list[str] = []

    def enough() -> bool:
        nonlocal cursor
        batch = source.fetch(cursor, limit)
        posts.extend(batch.posts)
        notices.extend(batch.notices)
        cursor = batch.next_cursor
        return len(posts) >= count

    wait_for(enough, timeout=timeout)
    return posts, cursor, notices


def test_the_subscription_asks_for_posts_only_from_the_cursor_keeping_other_parameters():
    url = subscribe_url("wss://jetstream.example/subscribe?compress=false&cursor=1", 1783175888090631)
    assert url == ("wss://jetstream.example/subscribe?compress=false&wantedCollections=app.bsky.feed.post"
                   "&cursor=1783175888090631")
    assert subscribe_url("ws://127.0.0.1:1/subscribe", None).endswith("?wantedCollections=app.bsky.feed.post")


def test_real_jetstream_events_become_posts_and_everything_else_is_passed_over(jetstream, server, appview, sources):
    events = recorded_events()
    jetstream.publish(events)
    sources.append(source := make_source(jetstream, server))
    start = str(events[0]["time_us"])
    posts, cursor, _ = fetch_until(source, start, 17)

    creates = post_creates(events)
    assert sorted(p.id for p in posts) == sorted(
        f"at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}" for e in creates)
    assert jetstream.connections[0]["wantedCollections"] == ["app.bsky.feed.post"]
    assert jetstream.cursors() == [events[0]["time_us"]]
    # likes, reposts, follows were not sent; the post delete, identity and account events were, and passed over
    delivered = [e for e in events if e["kind"] != "commit" or e["commit"]["collection"] == "app.bsky.feed.post"]
    wait_for(lambda: jetstream.sent == len(delivered), timeout=5)
    assert len(delivered) == 20
    assert int(source.fetch(cursor, 100).next_cursor) == max(e["time_us"] for e in delivered)

    by_rkey = {p.id.rsplit("/", 1)[-1]: p for p in posts}
    reply = by_rkey["3mptbyp7lu223"]
    assert reply.reply_to == "at://did:plc:i5y2f3gtpjxs3qg6fwgb6jb4/app.bsky.feed.post/3mpt7u2vlgs2c"
    assert reply.text == "이쁘시네용~~~" and reply.lang == "ko"
    assert reply.created_at == datetime(2026, 7, 4, 14, 38, 7, 112000, tzinfo=UTC)
    external = by_rkey["3mptbyoeyc22k"]
    assert external.urls == ("https://www.youtube.com/watch?v=V5lDo-jw8mA",)  # the facet and the card, once
    assert external.media == ()  # an external card's thumbnail is not a posted image
    pictured = next(p for p in posts if p.media)
    assert pictured.media[0].sha256 == cid_sha256("bafkreicwsq23gkygrgpijv7ocssxdyjokfv3quss3f2dg4csds3jpeqkwe")
    assert len(pictured.media[0].sha256) == 64 and pictured.media[0].phash is None


def test_embeds_inside_quote_posts_galleries_and_legacy_blobs_are_read(jetstream, server, appview, sources):
    events = fixture("events_derived.jsonl")
    jetstream.publish(events)
    sources.append(source := make_source(jetstream, server))
    posts, _, _ = fetch_until(source, str(events[0]["time_us"]), 4)
    assert len(posts) == 4  # the update and the delete are not posts
    quote_images, quote_link, gallery, legacy = sorted(posts, key=lambda p: p.id)[:4]
    hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"  # sha256(b"hello"): the blob's CID
    assert [m.sha256 for m in quote_images.media] == [hello]
    assert quote_images.urls == ("https://example.com/article",)
    assert quote_link.urls == ("https://example.org/landing",) and quote_link.text == ""
    assert [m.sha256 for m in gallery.media] == [hello] and [m.sha256 for m in legacy.media] == [hello]
    # createdAt of 2023 on an event Jetstream saw in 2026: timed by Jetstream, not by the client's word
    assert legacy.created_at == datetime.fromtimestamp(events[3]["time_us"] / 1e6, UTC)
    assert quote_images.author.handle == "atproto.com"
    assert quote_images.url == "https://bsky.app/profile/atproto.com/post/3mptc2aaaab2a"


def test_authors_come_from_the_appview_25_to_a_call_and_are_cached(jetstream, server, appview, sources):
    now = datetime.now(UTC)
    dids = [f"did:plc:author{index:03d}xxxxxxxxxxxxxxx" for index in range(60)]
    for index, did in enumerate(dids):
        appview.profiles[did] = profile(did, f"author{index}.bsky.social", now - timedelta(days=3), avatar=index % 2)
    events = [post_event(did, f"3mpost{index:03d}aa2a", f"hello {index}", now) for index, did in enumerate(dids)]
    jetstream.publish(events)
    sources.append(source := make_source(jetstream, server, cache=1000))
    posts, cursor, _ = fetch_until(source, str(events[0]["time_us"]), 60)
    assert sorted(len(call) for call in appview.calls()) == [10, 25, 25]
    first = next(p for p in posts if p.author.id == dids[0])
    assert first.author.handle == "author0.bsky.social" and first.author.url == (
        "https://bsky.app/profile/author0.bsky.social")
    assert first.author.created_at == datetime.fromisoformat(appview.profiles[dids[0]]["createdAt"])
    second = next(p for p in posts if p.author.id == dids[1])
    assert first.author.default_avatar is True and second.author.default_avatar is False
    assert first.author.followers_count == 1 and first.author.following_count == 140 and first.author.posts_count == 9

    jetstream.publish([post_event(did, f"3again{index:03d}aa2a", "again", now) for index, did in enumerate(dids)])
    fetch_until(source, cursor, 60)
    assert len(appview.calls()) == 3  # all cached


def test_the_profile_cache_is_bounded_and_unknown_accounts_are_named_by_did(jetstream, server, appview, sources):
    cache = ProfileCache(HttpClient("bluesky", server.url, FAST), size=2)
    found = cache.get_many([DID, "did:plc:o2rolxey6s5k7d4lxcz3inl4", "did:plc:tn3hni2jpphsgl6amfbb7ja6",
                            "did:plc:nobodyknowsthis000000000"])
    assert found["did:plc:nobodyknowsthis000000000"] is None
    assert len(cache._profiles) == 2
    cache.get_many([DID])
    assert len(appview.calls()) == 2  # evicted, read again

    jetstream.publish([post_event("did:plc:tn3hni2jpphsgl6amfbb7ja6", "3mlost0000aa2a", "hi", datetime.now(UTC)),
                       post_event("did:plc:nobodyknowsthis000000000", "3mnone0000aa2a", "hi", datetime.now(UTC))])
    sources.append(source := make_source(jetstream, server))
    posts, _, _ = fetch_until(source, str(jetstream._times[0]), 2)
    by_author = {p.author.id: p for p in posts}
    lost, nobody = by_author["did:plc:tn3hni2jpphsgl6amfbb7ja6"], by_author["did:plc:nobodyknowsthis000000000"]
    assert lost.author.handle == "" and lost.author.url == "https://bsky.app/profile/did:plc:tn3hni2jpphsgl6amfbb7ja6"
    assert nobody.author.handle == "" and nobody.author.created_at is None


def test_an_appview_outage_is_reported_once_and_posts_are_read_on(jetstream, server, appview, sources):
    appview.outage = [Reply(503, {"error": "down"})] * 3  # every attempt of the first poll
    now = datetime.now(UTC)
    jetstream.publish([post_event(DID, "3mfirst000aa2a", "first", now)])
    sources.append(source := make_source(jetstream, server))
    posts, cursor, notices = fetch_until(source, str(jetstream._times[0]), 1)
    assert posts[0].author.id == DID and posts[0].author.created_at is None
    assert len(notices) == 1 and "getProfiles" in notices[0] and "without account facts" in notices[0]
    jetstream.publish([post_event(DID, "3msecond00aa2a", "second", now)])
    posts, _, notices = fetch_until(source, cursor, 1)
    assert notices == [] and posts[0].author.handle == "atproto.com"


def ingest_all(store: Store, batches: list) -> None:
    for batch in batches:
        store.ingest("bluesky", batch.posts, batch.next_cursor)


def test_a_restart_resumes_from_the_stored_cursor_losing_and_storing_nothing_twice(jetstream, server, appview,
                                                                                    sources, tmp_path: Path):
    now = datetime.now(UTC)
    events = [post_event(DID, f"3mrestart{index:03d}a", f"post {index}", now, time_us=1_800_000_000_000_000 + index)
              for index in range(40)]
    jetstream.publish(events[:25])
    store = Store.open(tmp_path / "chorus.db")
    try:
        sources.append(first := make_source(jetstream, server))
        cursor = store.cursor("bluesky") or str(events[0]["time_us"])
        taken = 0
        while taken < 25:  # polls of at most 7 posts
            batch = first.fetch(cursor, 7)
            store.ingest("bluesky", batch.posts, batch.next_cursor)
            taken += len(batch.posts)
            cursor = batch.next_cursor
        first.close()  # the bot stops; posts go on
        jetstream.publish(events[25:])

        sources.append(second := make_source(jetstream, server))
        stored = store.cursor("bluesky")
        assert stored == str(events[24]["time_us"])
        total = 0
        while total < 15 + 1:  # the post at the cursor's own time_us is sent again, and stored once
            batch = second.fetch(stored, 7)
            total += len(batch.posts)
            store.ingest("bluesky", batch.posts, batch.next_cursor)
            stored = batch.next_cursor
        assert jetstream.cursors()[-1] == events[24]["time_us"]
        assert store.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 40
        assert store.cursor("bluesky") == str(events[-1]["time_us"])
    finally:
        store.close()


def test_a_stream_dropped_mid_way_reconnects_from_its_last_event_without_repeats(jetstream, server, appview,
                                                                                sources):
    jetstream.drop_after = 4
    now = datetime.now(UTC)
    events = [post_event(DID, f"3mdrop{index:03d}aa2a", f"post {index}", now, time_us=1_800_000_000_000_000 + index)
              for index in range(18)]
    jetstream.publish(events)
    sources.append(source := make_source(jetstream, server))
    posts, cursor, notices = fetch_until(source, str(events[0]["time_us"]), 18)
    assert len(posts) == len({p.id for p in posts}) == 18  # the replayed event at each cut is not repeated
    assert len(jetstream.connections) >= 5
    cursors = jetstream.cursors()
    assert cursors[1:5] == [events[3]["time_us"], events[6]["time_us"], events[9]["time_us"], events[12]["time_us"]]
    assert notices == []  # a short drop is not worth a message
    assert cursor == str(events[-1]["time_us"])


def test_a_stream_that_stays_down_is_reported_once_and_its_return_once(jetstream, server, appview, sources):
    jetstream.refusing = True
    sources.append(source := make_source(jetstream, server, report_down_after_seconds=0.3))
    notices: list[str] = []
    cursor = "1800000000000000"
    wait_for(lambda: len(jetstream.connections) == 0 and notices.extend(source.fetch(cursor, 10).notices) is None
             and len(notices) >= 1, timeout=10)
    assert len(notices) == 1 and "has been down since" in notices[0] and "503" in notices[0]
    for _ in range(5):
        notices += source.fetch(cursor, 10).notices
    assert len(notices) == 1
    jetstream.refusing = False
    jetstream.publish([post_event(DID, "3mback0000aa2a", "back", datetime.now(UTC), time_us=1_800_000_000_000_001)])
    _, _, more = fetch_until(source, cursor, 1)
    wait_for(lambda: more.extend(source.fetch(cursor, 10).notices) is None and more, timeout=10)
    assert len(more) == 1 and "is back" in more[0]


def test_a_batch_that_was_not_stored_is_read_again_from_the_stored_cursor(jetstream, server, appview, sources):
    now = datetime.now(UTC)
    events = [post_event(DID, f"3mlose{index:03d}aa2a", f"post {index}", now, time_us=1_800_000_000_000_000 + index)
              for index in range(6)]
    jetstream.publish(events)
    sources.append(source := make_source(jetstream, server))
    start = str(events[0]["time_us"])
    lost, _, _ = fetch_until(source, start, 6)  # handed out, then the database refused the batch
    again, _, _ = fetch_until(source, start, 6)
    assert sorted(p.id for p in again) == sorted(p.id for p in lost)
    assert jetstream.cursors()[-1] == events[0]["time_us"]


def test_a_full_buffer_pauses_the_stream_and_resumes_without_loss(jetstream, server, appview, sources):
    now = datetime.now(UTC)
    events = [post_event(DID, f"3mfull{index:03d}aa2a", f"post {index}", now, time_us=1_800_000_000_000_000 + index)
              for index in range(50)]
    jetstream.publish(events)
    sources.append(source := make_source(jetstream, server, buffer_posts=10))
    assert source.fetch(str(events[0]["time_us"]), 0).posts == []  # the first poll starts the reader
    wait_for(lambda: source.buffered >= 10, timeout=5)
    assert source.buffered == 10
    posts, _, _ = fetch_until(source, str(events[0]["time_us"]), 50, limit=4)
    assert len(posts) == len({p.id for p in posts}) == 50
    assert len(jetstream.connections) >= 2


def test_the_poller_refreshes_a_new_clusters_accounts_before_its_card(jetstream, server, appview, sources,
                                                                       tmp_path: Path):
    store = Store.open(tmp_path / "chorus.db")
    try:
        posts = [Post(id=f"at://{DID}/app.bsky.feed.post/3m{index}", created_at=datetime.now(UTC), text="vote X",
                      author=Author(id=DID if index == 0 else f"did:plc:other{index}", handle="old.handle"))
                 for index in range(3)]
        store.ingest("bluesky", posts, None)
        store.sync_clusters([Cluster(key="text:x", score=0.9, accounts=[p.author.id for p in posts],
                                     posts=[p.id for p in posts], reasons=["3 accounts posted the same text"],
                                     sample_text="vote X", first_seen=posts[0].created_at,
                                     last_seen=posts[0].created_at)])
        sources.append(source := make_source(jetstream, server))
        seen = []

        class Notifier:
            def publish(self, view, change):
                seen.append({a.id: (a.handle, a.url) for a in view.accounts})
                return None, None

        Poller(store, source, None, Notifier()).announce()  # type: ignore[arg-type]
        assert seen[0][DID] == ("atproto.com", "https://bsky.app/profile/atproto.com")
        assert seen[0]["did:plc:other1"][0] == "old.handle"  # no profile: the stored facts stay
        assert appview.calls()[-1] == [DID, "did:plc:other1", "did:plc:other2"]
    finally:
        store.close()


# --- Ozone ---------------------------------------------------------------------------------------------

PASSWORD = "ozone-admin-password"
MODERATOR = "did:plc:moderatorchorus000000000"
VOTER = "did:plc:o2rolxey6s5k7d4lxcz3inl4"
CASE = Case("c-0123456789", ("6 accounts posted the same text within 20 min", "5 of them are under 30 days old"),
            "spam")


def ozone_enforcer(server: FakePlatform, password: str = PASSWORD, policies=("spam",)) -> OzoneEnforcer:
    basic = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    client = HttpClient("ozone", server.url, FAST, headers={"Authorization": basic})
    return OzoneEnforcer(client, MODERATOR, "needs-verification", list(policies))


def test_suspend_is_one_takedown_event_naming_the_cluster_and_its_reasons(server):
    ozone = FakeOzone(server, PASSWORD)
    enforcer = OnceOnly(ozone_enforcer(server))
    first = act(enforcer, Action.SUSPEND, VOTER, "", "d7:suspend:" + VOTER, CASE)
    again = act(enforcer, Action.SUSPEND, VOTER, "", "d7:suspend:" + VOTER, CASE)
    assert first.ok and again.ok and ozone.times(VOTER, "takedown") == 1
    sent = server.sent("POST", EMIT)
    assert len(sent) == 1
    body = sent[0].json()
    assert body == {
        "event": {"$type": "tools.ozone.moderation.defs#modEventTakedown",
                  "comment": "Chorus cluster c-0123456789. 6 accounts posted the same text within 20 min; "
                             "5 of them are under 30 days old",
                  "acknowledgeAccountSubjects": True, "policies": ["spam"]},
        "subject": {"$type": "com.atproto.admin.defs#repoRef", "did": VOTER},
        "createdBy": MODERATOR, "externalId": "d7:suspend:" + VOTER, "modTool": {"name": "chorus"},
    }
    assert sent[0].headers["authorization"] == "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()).decode()


def test_verification_is_a_label_and_undos_reverse_and_negate(server):
    ozone = FakeOzone(server, PASSWORD)
    enforcer = ozone_enforcer(server, policies=())
    assert enforcer.act(Action.REQUIRE_VERIFICATION, VOTER, "looks automated", "d1:rv:x").ok
    assert ozone.labels[VOTER] == {"needs-verification"}
    label = server.sent("POST", EMIT)[-1].json()["event"]
    assert label == {"$type": "tools.ozone.moderation.defs#modEventLabel", "comment": "moderator: looks automated",
                     "createLabelVals": ["needs-verification"], "negateLabelVals": []}
    assert in_effect(enforcer, Action.REQUIRE_VERIFICATION, VOTER) is True
    assert enforcer.act(Action.LIFT_VERIFICATION, VOTER, "", "d2:lv:x").ok
    assert server.sent("POST", EMIT)[-1].json()["event"]["negateLabelVals"] == ["needs-verification"]
    assert ozone.labels[VOTER] == set() and in_effect(enforcer, Action.LIFT_VERIFICATION, VOTER) is True

    assert enforcer.act(Action.SUSPEND, VOTER, "", "d3:s:x").ok
    assert "policies" not in server.sent("POST", EMIT)[-1].json()["event"]
    assert in_effect(enforcer, Action.SUSPEND, VOTER) is True
    undo = enforcer.act(Action.UNSUSPEND, VOTER, "undo of decision 3", "d4:u:x")
    assert undo.ok and undo.detail == "takedown reversed in Ozone" and not ozone.takendown[VOTER]
    reverse = server.sent("POST", EMIT)[-1].json()["event"]
    assert reverse["$type"] == "tools.ozone.moderation.defs#modEventReverseTakedown"


def test_state_is_read_back_before_an_interrupted_action_is_sent_again(server):
    ozone = FakeOzone(server, PASSWORD)
    enforcer = ozone_enforcer(server)
    assert in_effect(enforcer, Action.SUSPEND, VOTER) is False  # getRepo: RepoNotFound, queryStatuses: none
    assert server.sent("GET", "/xrpc/tools.ozone.moderation.queryStatuses")
    ozone.takendown[VOTER] = True  # the takedown landed before the bot died
    assert in_effect(enforcer, Action.SUSPEND, VOTER) is True
    assert in_effect(enforcer, Action.UNSUSPEND, VOTER) is False
    assert server.sent("GET", "/xrpc/tools.ozone.moderation.getRepo")[-1].query == {"did": VOTER}


def test_an_account_already_taken_down_or_a_repeated_event_counts_as_done(server):
    ozone = FakeOzone(server, PASSWORD)
    ozone.takendown[VOTER] = True  # a human moderator got there first
    enforcer = ozone_enforcer(server)
    result = enforcer.act(Action.SUSPEND, VOTER, "", "d9:suspend:x")
    assert result.ok and result.detail == "already taken down in Ozone"
    ozone.takendown[VOTER] = False
    assert enforcer.act(Action.SUSPEND, VOTER, "", "d10:suspend:x").ok
    repeated = enforcer.act(Action.SUSPEND, VOTER, "", "d10:suspend:x")  # the reply was lost: sent again
    assert repeated.ok and ozone.times(VOTER, "takedown") == 1
    # the key is Ozone's but the account was restored since (a new database reusing decision ids): act again
    ozone.takendown[VOTER] = False
    assert enforcer.act(Action.SUSPEND, VOTER, "", "d10:suspend:x").ok
    assert ozone.takendown[VOTER] and ozone.times(VOTER, "takedown") == 2


def test_a_refused_password_is_a_clear_failure_that_is_not_retried(server):
    FakeOzone(server, PASSWORD)
    result = ozone_enforcer(server, password="wrong").act(Action.SUSPEND, VOTER, "", "k")
    assert not result.ok and not result.retryable
    assert "401" in result.detail and "AuthenticationRequired" in result.detail
    assert len(server.sent("POST", EMIT)) == 1


def test_an_ozone_outage_is_retried_then_a_retryable_failure(server):
    ozone = FakeOzone(server, PASSWORD)
    ozone.outage = [Reply(502, {"error": "InternalServerError", "message": "upstream"})] * 3
    result = ozone_enforcer(server).act(Action.SUSPEND, VOTER, "", "k")
    assert not result.ok and result.retryable and "502" in result.detail
    assert len(server.sent("POST", EMIT)) == 3 and not ozone.takendown.get(VOTER)
    ozone.outage = [Reply(503, {"error": "down"})]
    assert ozone_enforcer(server).act(Action.SUSPEND, VOTER, "", "k").ok  # one 503, then the retry lands
    assert ozone.times(VOTER, "takedown") == 1


def test_without_ozone_actions_fail_saying_what_to_set():
    result = NoOzone().act(Action.SUSPEND, VOTER, "", "k")
    assert not result.ok and result.unsupported and "OZONE_URL" in result.detail


def test_configuration_reads_urls_from_the_environment_and_needs_a_moderator_did():
    text = '[source]\nkind = "bluesky"\n[bluesky]\nverify_label = "check-me"\npolicies = ["spam"]\n'
    config = parse_config(text, Path("."), {})
    assert config.bluesky.jetstream_url.startswith("wss://") and config.bluesky.ozone_url == ""
    env = {"BLUESKY_JETSTREAM_URL": "ws://127.0.0.1:1/subscribe", "OZONE_URL": "http://127.0.0.1:2",
           "OZONE_MODERATOR_DID": MODERATOR, "OZONE_ADMIN_PASSWORD": PASSWORD}
    from service.config import bluesky_urls

    assert bluesky_urls(parse_config(text, Path("."), env))[::2] == ("ws://127.0.0.1:1/subscribe",
                                                                     "http://127.0.0.1:2")
    with pytest.raises(ConfigError, match="OZONE_MODERATOR_DID"):
        parse_config(text, Path("."), {**env, "OZONE_MODERATOR_DID": ""})
    with pytest.raises(ConfigError, match="OZONE_ADMIN_PASSWORD"):
        parse_config(text, Path("."), {**env, "OZONE_ADMIN_PASSWORD": ""})
    with pytest.raises(ConfigError, match=r"bluesky\.jetstream_url"):
        parse_config(text + 'jetstream_url = "https://x"\n', Path("."), {})
    assert repr(parse_config(text, Path("."), env).secrets).count(PASSWORD) == 0


def test_the_registry_builds_ozone_with_basic_auth_or_a_service_token(server):
    from service.registry import build_enforcer

    ozone = FakeOzone(server, PASSWORD, token="service-jwt")
    text = f'[source]\nkind = "bluesky"\n[bluesky]\nozone_url = "{server.url}"\n'
    for extra in ({"OZONE_ADMIN_PASSWORD": PASSWORD}, {"OZONE_SERVICE_TOKEN": "service-jwt"}):
        config = parse_config(text, Path("."), {"OZONE_MODERATOR_DID": MODERATOR, **extra})
        assert build_enforcer(config).act(Action.REQUIRE_VERIFICATION, VOTER, "", json.dumps(extra)).ok
    assert [r.headers["authorization"].split()[0] for r in server.sent("POST", EMIT)] == ["Basic", "Bearer"]
    assert ozone.times(VOTER, "label") == 2


def test_a_reader_thread_ends_with_its_source(jetstream, server, appview):
    source = make_source(jetstream, server)
    source.fetch(None, 10)
    wait_for(lambda: jetstream.connections, timeout=5)
    source.close()
    assert not any(t.name == "jetstream-reader" and t.is_alive() for t in threading.enumerate())


def test_a_cursor_older_than_jetstream_replays_is_reported(jetstream, server, appview, sources):
    sources.append(source := make_source(jetstream, server))
    old = datetime.now(UTC) - timedelta(hours=40)
    notices = source.fetch(str(int(old.timestamp() * 1_000_000)), 10).notices
    assert len(notices) == 1 and "beyond the ~36 hours Jetstream replays" in notices[0]
