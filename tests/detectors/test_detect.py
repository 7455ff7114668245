"""Detection end to end on small generated groups: campaigns caught, organic copies left alone."""

import os
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from cli.evaluate import Label, score_clusters
from cli.synthetic import generate
from detectors import DetectionSettings, WindowIndex, bands, detect, parallel
from detectors import index as content_index
from detectors.index import ContentIndex
from domain.models import Author, Media, Post
from domain.records import parse_post
from tests.bot_process import ROOT

T0 = datetime(2026, 2, 20, 12, tzinfo=UTC)
MESSAGE = "Senator Grey voted to close the river clinic and lied about it. Share before they delete this"


def author(i: int, *, new: bool) -> Author:
    created = T0 - (timedelta(days=3, hours=i) if new else timedelta(days=900 + 97 * i))
    return Author(id=f"a{i}", created_at=created, followers_count=2 if new else 300,
                  default_avatar=new)


def post(i: int, text: str, minutes: float, *, new: bool, media: tuple[Media, ...] = ()) -> Post:
    return Post(id=f"p{i}-{minutes}", created_at=T0 + timedelta(minutes=minutes), text=text,
                author=author(i, new=new), media=media)


def test_new_accounts_posting_disguised_copies_form_one_cluster_with_reasons() -> None:
    variants = [MESSAGE, MESSAGE.upper(), "Agree! " + MESSAGE, MESSAGE.replace("o", "о"), MESSAGE + " #truth"]
    posts = [post(i, variants[i % 5], i, new=True) for i in range(10)]
    [cluster] = detect(posts)
    assert sorted(cluster.accounts) == sorted(f"a{i}" for i in range(10))
    assert cluster.score >= DetectionSettings().min_score
    assert any("median age 3 days" in reason for reason in cluster.reasons)


def test_an_index_of_one_batch_pairs_as_a_kept_one_and_takes_no_later_posts_nor_a_compaction() -> None:
    variants = [MESSAGE, MESSAGE.upper(), "Agree! " + MESSAGE, MESSAGE.replace("o", "о"), MESSAGE + " #truth"]
    posts = [post(i, variants[i % 5], i, new=True) for i in range(10)]
    kept, once = ContentIndex(), ContentIndex(one_batch=True)
    kept.add(posts)
    once.add(posts)
    assert once.parent == kept.parent and once.members == kept.members
    with pytest.raises(ValueError, match="one batch"):
        once.add([post(11, MESSAGE, 11, new=True)])
    with pytest.raises(ValueError, match="one batch"):
        once.compact()


def test_same_image_with_different_texts_is_one_cluster() -> None:
    image = Media(sha256="ab" * 32)
    posts = [post(i, f"random caption number {i} about {i * 7} things", i, new=True, media=(image,))
             for i in range(6)]
    [cluster] = detect(posts)
    assert cluster.media == ["ab" * 32]


def test_a_re_encoded_picture_joins_within_a_few_bits_and_not_beyond() -> None:
    captions = ["lunch at the harbour", "my dog in the snow", "new bike day", "sunset from the roof",
                "grandma's birthday cake", "first tomatoes of the year"]

    def posting(phashes: list[int]) -> list:
        return detect([post(i, caption, i, new=True, media=(Media(phash=f"{value:016x}"),))
                       for i, (caption, value) in enumerate(zip(captions, phashes, strict=True))])

    picture = 0x8F3A_0011_FE00_1234
    [cluster] = posting([picture] + [picture ^ (0b1011 << (11 * i)) for i in range(5)])  # 3 bits off the first
    assert len(cluster.accounts) == 6
    assert posting([picture] + [picture ^ (0x1FF << (11 * i)) for i in range(5)]) == []  # 9 bits off


def test_old_accounts_sharing_a_headline_in_one_hour_are_not_flagged() -> None:
    assert detect([post(i, MESSAGE, i, new=False) for i in range(40)]) == []


def test_old_accounts_co_posting_several_messages_are_flagged() -> None:
    messages = [
        "The clinic closure vote was rigged by the council, ask them why tonight",
        "Grey has taken money from the developers who want the river land for condos",
        "Remember in November: every councillor who backed the closure has to go",
        "Photos from the protest at the river clinic show hundreds of families outside",
    ]
    posts = [post(i, text, 60 * k + i, new=False) for i in range(8) for k, text in enumerate(messages)]
    [cluster] = detect(posts)
    assert len(cluster.accounts) == 8
    assert any("co-posted 4" in reason for reason in cluster.reasons)


def test_a_batch_split_over_forked_children_gives_the_same_clusters(monkeypatch) -> None:
    posts = [parse_post(r) for r in generate(3000, seed=5).posts]
    alone = detect(posts)
    monkeypatch.setattr(parallel, "MIN_SPLIT_ITEMS", 2)  # groups judged, texts' facts read and bands done in halves
    monkeypatch.setattr(bands, "MIN_SPLIT_TEXTS", 2)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    assert detect(posts) == alone
    assert len(forks) >= 3


def test_generated_data_meets_the_bar() -> None:
    generated = generate(8000, seed=3)
    labels = {row["account_id"]: Label(row["label"] == "coordinated", row["campaign"]) for row in generated.labels}
    truth = asdict(generated.truth)
    result = score_clusters(detect([parse_post(r) for r in generated.posts]), labels, truth=truth)
    findable, found = map(sum, zip(*result.findable.values(), strict=True))
    assert found >= 0.95 * findable and result.precision >= 0.98
    lookalikes, flagged = map(sum, zip(*result.hard_negatives.values(), strict=True))
    assert flagged <= 0.01 * lookalikes


def test_window_index_is_idempotent_expires_and_keeps_the_key_as_a_cluster_grows() -> None:
    index = WindowIndex(DetectionSettings(window_hours=2))
    first = [post(i, MESSAGE, i, new=True) for i in range(4)]
    index.add(first)
    index.add(first)
    assert len(index) == 4
    [before] = index.clusters()
    index.add([post(i, MESSAGE, 10 + i, new=True) for i in range(4, 8)])
    [after] = index.clusters()
    assert after.key == before.key and len(after.accounts) == 8
    index.add([post(99, "an unrelated later post about gardening and tomatoes", 300, new=False)])
    assert len(index) == 1 and index.clusters() == []


def test_content_back_after_all_its_posts_left_is_indexed_afresh_and_found_again() -> None:
    index = WindowIndex(DetectionSettings(window_hours=2))
    index.add([post(i, MESSAGE, i, new=True) for i in range(4)])
    index.add([post(50, "an unrelated later post about gardening and tomatoes", 300, new=False)])
    content = index._detector.index
    assert len(index) == 1 and not any(MESSAGE.split()[0].lower() in key for key in content.key_node)  # key let go
    # the same words again, and near-copies of them that must be matched to the new node by its band keys
    back = [post(10 + i, [MESSAGE, MESSAGE.upper() + "!!", "Agree! " + MESSAGE][i % 3], 310 + i, new=True)
            for i in range(6)]
    index.add(back)
    [cluster] = index.clusters()
    assert sorted(cluster.accounts) == sorted(f"a{10 + i}" for i in range(6))
    assert content.alive().sum() == len({node for p in back for node in content.nodes_of_post(p.id)}) + 1


SPECIFIC = [
    "The clinic closure vote was rigged by the council, ask them why tonight",
    "Grey has taken money from the developers who want the river land for condos",
    "Remember in November: every councillor who backed the closure has to go",
]


def test_a_stock_phrase_does_not_pull_other_posters_into_a_co_posting_cluster() -> None:
    campaign = [post(i, text, 5 * k + i / 10, new=True) for i in range(7)
                for k, text in enumerate([*SPECIFIC, "bored out of my mind."])]
    bystanders = [post(i, "Bored out of my mind!", -60 * 24 * 30 + i, new=False) for i in (50, 51)]
    clusters = detect(campaign + bystanders)
    flagged = {account for cluster in clusters for account in cluster.accounts}
    assert flagged == {f"a{i}" for i in range(7)}


def test_co_posting_by_fewer_accounts_than_a_small_campaign_counts_for_less() -> None:
    def co_posting(accounts: int) -> list:
        two_messages = enumerate(SPECIFIC[:2])
        return detect([post(i, text, 60 * k + i, new=False) for k, text in two_messages for i in range(accounts)])

    assert co_posting(3) == []
    [cluster] = co_posting(6)
    assert len(cluster.accounts) == 6


def test_posts_further_apart_than_the_window_are_never_one_group() -> None:
    posts = [post(i, MESSAGE, 60 * 24 * 3 * i, new=True) for i in range(8)]  # a post every three days
    assert detect(posts) == []  # the bot never holds two of them at once, and neither does scan
    [cluster] = detect(posts, DetectionSettings(window_hours=24 * 30))  # a month's window sees them together
    assert any("created within" in reason for reason in cluster.reasons)


def test_the_same_text_in_two_periods_makes_two_clusters_with_their_own_ids() -> None:
    first = [post(i, MESSAGE, i, new=True) for i in range(5)]
    again = [post(10 + i, MESSAGE, 60 * 24 * 40 + i, new=True) for i in range(5)]  # forty days later
    clusters = detect(first + again)
    assert sorted(len(c.accounts) for c in clusters) == [5, 5]
    assert len({c.id for c in clusters}) == 2


def test_the_window_index_fed_in_polls_finds_what_batch_detect_finds() -> None:
    posts = [parse_post(r) for r in generate(5000, seed=4).posts]
    settings = DetectionSettings(window_hours=48)  # the data spans a day: nothing expires
    index = WindowIndex(settings)
    for start in range(0, len(posts), 700):
        index.add(posts[start:start + 700])
        index.clusters()

    def found(clusters: list) -> dict:
        return {(frozenset(c.accounts), c.key): c.score for c in clusters}

    polled, scanned = found(index.clusters()), found(detect(posts, settings))
    assert polled.keys() == scanned.keys()
    # a group is judged against the accounts active when it last changed (`cohort`), so a score read
    # polls ago may differ a little from the batch's
    assert all(abs(polled[key] - scanned[key]) <= 0.02 for key in polled)


def test_the_same_posts_give_the_same_clusters_whatever_the_hash_seed() -> None:
    script = ("from domain.records import parse_post; from cli.synthetic import generate; "
              "from detectors import detect; "
              "print(sorted((c.key, c.score, sorted(c.accounts)) for c in "
              "detect([parse_post(r) for r in generate(5000, seed=8).posts])))")
    runs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1


@pytest.mark.parametrize("pairs_a_step", [content_index.COMPACT_PAIRS, 1])
def test_a_window_that_expires_and_compacts_finds_what_detect_finds_on_the_posts_left(monkeypatch,
                                                                                     pairs_a_step: int) -> None:
    from detectors import engine

    monkeypatch.setattr(engine, "CHECK_MIN_EXPIRED", 300)
    monkeypatch.setattr(content_index, "COMPACT_PAIRS", pairs_a_step)  # 1: each near-copy pair checked on its own
    compactions = []
    compact = engine._Detector.compact
    monkeypatch.setattr(engine._Detector, "compact", lambda self: compactions.append(len(self.index.node_key))
                        or compact(self))
    posts = sorted((parse_post(r) for r in generate(5000, seed=6).posts), key=lambda p: (p.created_at, p.id))
    settings = DetectionSettings(window_hours=6)
    window = WindowIndex(settings)
    content = window._detector.index
    for start in range(0, len(posts), 400):
        window.add(posts[start:start + 400])
        window.clusters()
        # liveness is read from the node flags: they must say which nodes hold a live post at every step
        assert content.alive().tolist() == [any(content.posts.get(held.id) is held for held in node)
                                            for node in content.node_posts]
    horizon = window.newest - timedelta(hours=6)
    live = [post for post in posts if post.created_at >= horizon]
    assert len(window) == len(live)

    def found(clusters: list) -> set:
        return {(frozenset(c.accounts), c.score) for c in clusters}

    assert found(window.clusters()) == found(detect(live, settings))
    assert len(compactions) >= 2


def test_a_short_text_first_seen_under_a_link_is_still_a_message_of_its_own_after_a_compaction() -> None:
    # a short text is keyed with its post's links, so the bare text's node, made on the way, holds no post
    short = "Vote Grey out, now!!"
    window = WindowIndex()
    window.add([Post(id="linked", created_at=T0, text=short, author=author(90, new=False),
                     urls=("https://river.example/clinic",))])
    window._detector.compact()  # as the window does once COMPACT_DEAD_SHARE of its nodes have no live post
    window.add([post(i, short, 10 + i, new=True) for i in range(6)])
    [cluster] = window.clusters()
    assert sorted(cluster.accounts) == [f"a{i}" for i in range(6)]


def test_compaction_drops_expired_content_and_the_joins_only_it_made(monkeypatch) -> None:
    from detectors import engine

    monkeypatch.setattr(engine, "CHECK_MIN_EXPIRED", 1)
    picture = 0x8F3A_0011_FE00_1234
    left, middle, right = picture, picture ^ 0b111, picture ^ 0b111111  # 3 bits apart each, 6 end to end

    def shot(value: int) -> tuple[Media, ...]:
        return (Media(phash=f"{value:016x}"),)

    captions = ["lunch at the harbour today", "my dog in the snow again", "new bike day finally here",
                "sunset from the roof tonight", "grandma's birthday cake recipe", "first tomatoes of the year"]
    index = WindowIndex(DetectionSettings(window_hours=1))
    # one early post's picture sits between the two others; it expires with some chatter
    index.add([post(0, "look at this one", 0, new=True, media=shot(middle))]
              + [post(50 + i, f"chatter number {i} about the weather and {i * 13} other things", 1, new=False)
                 for i in range(8)])
    index.add([post(1 + i, captions[i], 30 + i, new=True, media=shot(left)) for i in range(3)]
              + [post(4 + i, captions[3 + i], 40 + i, new=True, media=shot(right)) for i in range(3)])
    [joined] = index.clusters()
    assert len(joined.accounts) == 7

    index.add([post(99, "a new day and nothing else to report from the valley", 65, new=False)])
    content = index._detector.index
    assert len(content.node_key) == 6 + 2 + 1 and content.dead_nodes == 0  # captions, two pictures, new day
    assert {frozenset(cluster.accounts) for cluster in index.clusters()} == {
        frozenset(f"a{i}" for i in range(1, 4)), frozenset(f"a{i}" for i in range(4, 7))}
