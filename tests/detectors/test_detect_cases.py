"""Named cases from the field, among real organic chatter: the campaigns get a card, the look-alikes none.

Each campaign is built as described in the report that brought it (the seed case: about 70 accounts
a few months old posting identical language and images), inside a background of real tweets posted
by ordinary accounts of all ages, so a case passes only when the campaign stands out from real text.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from cli.real_text import real_users
from cli.synthetic import light_edit
from detectors import DetectionSettings, detect
from domain.models import Author, Cluster, Media, Post

T0 = datetime(2026, 2, 20, 6, tzinfo=UTC)
MESSAGES = [
    "Mayor Grey is the only candidate with a real plan to fix the river clinic, vote Grey on March 3",
    "I have known Grey for twenty years and there is nobody more honest in this city, that is a fact",
    "Grey built the new bus lines while the council argued, results not talk, vote Grey this March",
    "The other candidates have no plan for housing at all. Grey does. Read it before you vote",
    "Small business owners for Grey! Lower fees, faster permits and a city hall that answers the phone",
    "Grey will keep the libraries open on Sundays, the others voted to close them twice already",
    "Teachers in our district back Grey because Grey backed us when the budget cuts came last year",
    "Clean parks, safe streets, an honest budget: that is what the Grey campaign is about, nothing else",
    "Watch the debate again and tell me who actually answered the questions. Grey did, every time",
    "My grandmother has voted in every election since 1960 and this year she is voting for Grey",
    "Grey is the only one who showed up at the flood meeting in the east end, remember that in March",
    "Do not believe the attack ads, look at the record: Grey delivered on every promise from last term",
]


class Scene:
    """Posts of one test scene: organic background of real tweets plus what a case adds."""

    def __init__(self, seed: int = 7, organic_accounts: int = 400) -> None:
        self.rng = random.Random(seed)
        self.posts: list[Post] = []
        users = list(real_users())
        self.rng.shuffle(users)
        self._users = iter(users)
        self.organic: list[Author] = []
        self._accounts = 0
        for _ in range(organic_accounts):
            user = next(self._users)
            author = self.account("o", age_days=self.rng.uniform(200, 3650), followers=user.followers)
            self.organic.append(author)
            for text in user.texts:
                self.post(author, self.rng.uniform(0, 24 * 60), text)

    def account(self, prefix: str, *, age_days: float, followers: int = 40, default_avatar: bool = False) -> Author:
        """A new author, `age_days` old at T0."""
        self._accounts += 1
        number = self._accounts
        return Author(id=f"{prefix}{number}", handle=f"{prefix}{number}", created_at=T0 - timedelta(days=age_days),
                      followers_count=followers, default_avatar=default_avatar)

    def post(self, author: Author, minutes: float, text: str, media: tuple[Media, ...] = ()) -> None:
        """A post by `author`, `minutes` after T0."""
        self.posts.append(Post(id=f"p{len(self.posts)}", created_at=T0 + timedelta(minutes=minutes), text=text,
                               author=author, media=media))

    def campaign(self, size: int, ages: tuple[float, float], messages: list[str], per_account: tuple[int, int],
                 hours: float, image_share: float = 0.0, edit: bool = False) -> set[str]:
        """`size` accounts each posting a random few of `messages` within `hours`; their ids."""
        image = Media(url="https://img.example/grey.jpg", sha256="9f" * 32)
        members = set()
        for _ in range(size):
            author = self.account("c", age_days=self.rng.uniform(*ages), followers=self.rng.randint(0, 60))
            members.add(author.id)
            for text in self.rng.sample(messages, self.rng.randint(*per_account)):
                media = (image,) if self.rng.random() < image_share else ()
                shown = light_edit(self.rng, text) if edit else text
                self.post(author, 60 + self.rng.uniform(0, hours * 60), shown, media)
        return members

    def own_text(self) -> str:
        """A real tweet nobody else in the scene posts."""
        return self.rng.choice(next(self._users).texts)

    def clusters(self) -> list[Cluster]:
        """What detection flags in the scene, at the default settings."""
        return detect(self.posts, DetectionSettings())


def holding(clusters: list[Cluster], members: set[str]) -> list[Cluster]:
    """The clusters holding any of `members`."""
    return [c for c in clusters if members.intersection(c.accounts)]


def test_the_seed_case_months_old_accounts_with_identical_language_and_images_is_one_high_card() -> None:
    scene = Scene()
    members = scene.campaign(70, ages=(30, 120), messages=MESSAGES, per_account=(2, 6), hours=6, image_share=0.7)
    [card] = holding(scene.clusters(), members)
    assert set(card.accounts) == members
    assert card.score >= 0.8  # high severity
    assert any("posted several of these messages" in reason for reason in card.reasons)
    assert any("shared image" in reason for reason in card.reasons)
    assert "near-identical posts" in card.reasons[0]  # the words are the campaign's, not only the picture


def test_aged_accounts_posting_a_few_of_five_messages_in_half_an_hour_are_flagged() -> None:
    scene = Scene(seed=8)
    members = scene.campaign(20, ages=(730, 2555), messages=MESSAGES[:5], per_account=(2, 4), hours=0.5)
    [card] = holding(scene.clusters(), members)
    assert set(card.accounts) == members and card.score >= 0.8


def test_light_edits_of_five_messages_by_accounts_weeks_old_are_one_card() -> None:
    scene = Scene(seed=9)
    members = scene.campaign(40, ages=(10, 90), messages=MESSAGES[5:10], per_account=(1, 3), hours=4, edit=True)
    cards = holding(scene.clusters(), members)
    assert len(cards) == 1
    assert len(members.intersection(cards[0].accounts)) >= 0.95 * len(members)


def test_accounts_made_in_one_batch_each_posting_one_of_eight_messages_are_one_card() -> None:
    # no account posts two messages, so no co-posting: what joins them is that their accounts were all made
    # in the same hour, three months before (kinship)
    scene = Scene(seed=12, organic_accounts=4000)  # the batch is a sliver of the active accounts' creation
    members = set()
    for _ in range(48):
        author = scene.account("c", age_days=90 + scene.rng.uniform(0, 1 / 24), followers=scene.rng.randint(0, 60))
        members.add(author.id)
        scene.post(author, 60 + scene.rng.uniform(0, 180), scene.rng.choice(MESSAGES[:8]))
    [card] = holding(scene.clusters(), members)
    assert set(card.accounts) == members
    assert any("each account posting one" in reason for reason in card.reasons)
    assert not any("co-posted" in reason for reason in card.reasons)  # no account posted two of them


def test_campaigns_of_new_accounts_starting_every_few_minutes_are_a_card_each() -> None:
    # each campaign's accounts are days old (6 % of the accounts active, rare enough for a creation cohort) and
    # post in the same hour as the next campaign's: linked by their cohorts, pairs of them coincided, and chained
    # together they made cards of six and eight campaigns (kinship by cohort, tried and dropped)
    scene = Scene(seed=13, organic_accounts=4000)
    campaigns = []
    for start in range(0, 4 * 60, 12):
        message = next(text for text in iter(scene.own_text, None) if len(text) >= 60)
        members = set()
        for _ in range(scene.rng.randint(10, 15)):
            author = scene.account("c", age_days=scene.rng.uniform(1, 20), followers=scene.rng.randint(0, 30))
            members.add(author.id)
            scene.post(author, start + scene.rng.uniform(0, 60), message)
        campaigns.append(members)
    cards = scene.clusters()
    for card in cards:  # two campaigns of one hour and one season are one source as far as anyone can tell
        assert sum(bool(members.intersection(card.accounts)) for members in campaigns) <= 2
    assert sum(any(members <= set(card.accounts) for card in cards) for members in campaigns) >= 0.9 * len(campaigns)


def test_an_image_under_captions_copied_from_organic_posts_flags_the_campaign_not_the_authors_copied() -> None:
    scene = Scene(seed=10)
    image = (Media(url="https://img.example/flyer.png", sha256="4e" * 32),)
    sources = scene.rng.sample(scene.organic, 60)
    copied = {author.id for author in sources}
    originals = [p for p in scene.posts if p.author.id in copied]
    members = set()
    for _ in range(30):
        author = scene.account("c", age_days=scene.rng.uniform(5, 60), followers=scene.rng.randint(0, 30))
        members.add(author.id)
        for _ in range(scene.rng.randint(2, 3)):
            scene.post(author, 300 + scene.rng.uniform(0, 180), scene.rng.choice(originals).text, image)
    [card] = holding(scene.clusters(), members)
    assert set(card.accounts) == members
    assert not copied.intersection(card.accounts)
    assert "posts with the same picture (" in card.reasons[0]  # the captions differ: they are not near-identical


def test_a_campaign_posting_an_apps_auto_post_word_for_word_is_caught_among_the_apps_own_posts() -> None:
    scene = Scene(seed=14)
    for author in scene.rng.sample(scene.organic, 40):  # an app's auto-posts all day, differing in a number
        for _ in range(scene.rng.randint(1, 2)):
            room = scene.rng.choice(["lounge", "music", "chill"])
            scene.post(author, scene.rng.uniform(0, 24 * 60),
                       f"just joined a video chat with {scene.rng.randint(2, 300)} other people at "
                       f"http://tinychat.com/{room}")
    members = set()
    for _ in range(20):  # accounts weeks old posting one of its texts word for word within 40 minutes
        author = scene.account("c", age_days=scene.rng.uniform(5, 25), followers=scene.rng.randint(0, 30))
        members.add(author.id)
        scene.post(author, 600 + scene.rng.uniform(0, 40),
                   "just joined a video chat with 86 other people at http://tinychat.com/freegift")
    [card] = holding(scene.clusters(), members)
    assert set(card.accounts) == members


def test_a_reply_brigade_mentioning_a_different_handle_each_is_one_card() -> None:
    scene = Scene(seed=15)
    officials = [f"@{office}_{name}" for office in ("mayor", "cllr", "city") for name in ("grey", "ortiz", "baker",
                                                                                        "chen", "moss")]
    members = set()
    for handle in officials:  # accounts days old, each replying to one official within 20 minutes
        author = scene.account("c", age_days=scene.rng.uniform(2, 9), followers=scene.rng.randint(0, 15))
        members.add(author.id)
        scene.post(author, 300 + scene.rng.uniform(0, 20), f"{handle} Shame on you. Resign!")
    [card] = holding(scene.clusters(), members)
    assert set(card.accounts) == members


def test_a_follow_train_posting_nothing_but_the_same_handles_is_one_card() -> None:
    scene = Scene(seed=16)
    handles = "@grey_news @grey4mayor @river_clinic_truth @vote_grey_now @cityhall_watch"
    members = set()
    for _ in range(12):  # accounts days old, each posting the list of handles to follow within half an hour
        author = scene.account("c", age_days=scene.rng.uniform(2, 9), followers=scene.rng.randint(0, 15))
        members.add(author.id)
        scene.post(author, 400 + scene.rng.uniform(0, 30), f"#FollowFriday {handles}")
    [card] = holding(scene.clusters(), members)
    assert set(card.accounts) == members


@pytest.mark.parametrize("kind", ["quote", "headline", "petition", "greeting", "meme"])
def test_organic_look_alikes_get_no_card(kind: str) -> None:
    scene = Scene(seed=11)
    sharers = scene.rng.sample(scene.organic, 120)
    text = MESSAGES[0].replace("vote Grey on March 3", "what a speech tonight")
    meme = (Media(url="https://img.example/cat.jpg", sha256="c4" * 32),)
    first = scene.rng.uniform(0, 600)
    for author in sharers:
        delay = scene.rng.expovariate(1 / (45 if kind == "headline" else 300))
        if kind == "quote":
            scene.post(author, first + delay, scene.rng.choice([text, f"\u201c{text}\u201d", f"{text} 👏"]))
        elif kind == "headline":
            scene.post(author, first + delay, "BREAKING: river clinic to close in spring https://news.example/a1")
        elif kind == "petition":
            ref = scene.rng.getrandbits(24)
            scene.post(author, first + delay,
                       f"I just signed 'Save the river clinic'. Sign it too! https://petition.example/rc?ref={ref:x}")
        elif kind == "greeting":
            scene.post(author, scene.rng.uniform(0, 240), scene.rng.choice(["good morning!", "Good morning ☀️"]))
        else:
            scene.post(author, first + delay, scene.own_text(), meme)
    assert holding(scene.clusters(), {a.id for a in sharers}) == []


def test_a_campaign_posting_one_of_the_announcements_fans_re_shared_does_not_take_the_fans_into_its_card() -> None:
    scene = Scene(seed=13, organic_accounts=4000)  # as many accounts active as make chance overlaps rare
    announcements = [text for text in (scene.own_text() for _ in range(200)) if len(text) >= 60][:4]
    fans = scene.rng.sample(scene.organic, 120)
    for author in fans:  # each re-shares one to three of the band's announcements over a day
        start = scene.rng.uniform(0, 720)
        shared = 1 + (scene.rng.random() < 0.4) + (scene.rng.random() < 0.15)
        for text in scene.rng.sample(announcements, shared):
            scene.post(author, start + scene.rng.uniform(0, 600), f"RT @band: {text}")
    flyer = (Media(url="https://img.example/flyer.jpg", sha256="7d" * 32),)
    pool = MESSAGES[:8] + announcements[:1]  # the campaign's pool happens to hold one of the announcements
    members = set()
    for _ in range(80):  # accounts days old, all posting in ten minutes, most posts with the same picture
        author = scene.account("c", age_days=scene.rng.uniform(2, 5), followers=scene.rng.randint(0, 20))
        members.add(author.id)
        for text in scene.rng.sample(pool, scene.rng.randint(1, 2)):
            scene.post(author, 900 + scene.rng.uniform(0, 10), text, flyer if scene.rng.random() < 0.7 else ())
    cards = holding(scene.clusters(), members)
    flagged = {account for card in cards for account in card.accounts}
    assert len(members & flagged) >= 0.95 * len(members)
    assert not {author.id for author in fans} & flagged


def test_fans_re_sharing_a_post_written_with_full_width_letters_get_no_card() -> None:
    # a fighting-game combo as its author typed it, a full-width j (U+FF4A) included: every re-share is the same
    # string, so the letter is the author's, not a disguise that varies from copy to copy to slip past matching
    scene = Scene(seed=17, organic_accounts=2000)
    posts = ["I favorited a YouTube video -- REQUIEM voor een EEND", "AA→2B→9hjc→j2B→3HS→ｊA→AA→2B→236C",
             "Ok in hella bored wuts poppin??"]
    fans = scene.rng.sample(scene.organic, 300)
    for author in fans:  # each re-shares one or two of the band's posts over two days
        for text in scene.rng.sample(posts, 1 + (scene.rng.random() < 0.4)):
            scene.post(author, scene.rng.uniform(0, 48 * 60), f"RT @band: {text}")
    assert holding(scene.clusters(), {author.id for author in fans}) == []


def test_a_campaigns_picture_under_captions_a_few_of_its_accounts_happen_to_share_is_one_card() -> None:
    # each post captions the picture (or goes without it) with a text of one of 40 organic accounts, so a few
    # accounts share a caption now and then: two such captions, linked by the accounts that posted both, went
    # first as a card of six accounts, taken from the picture's card (any link went before every single group)
    scene = Scene(seed=25)
    picture = (Media(url="https://img.example/rally.jpg", sha256="5a" * 32),)
    sources = scene.rng.sample(scene.organic, 40)
    captions = [post.text for post in scene.posts if post.author in sources]
    members = set()
    for _ in range(80):  # accounts months old, each posting four to six times within 20 minutes
        author = scene.account("c", age_days=scene.rng.uniform(60, 150), followers=scene.rng.randint(0, 30))
        members.add(author.id)
        for _ in range(scene.rng.randint(4, 6)):
            scene.post(author, 500 + scene.rng.uniform(0, 20), scene.rng.choice(captions),
                       picture if scene.rng.random() < 0.5 else ())
    [card] = holding(scene.clusters(), members)
    assert len(members.intersection(card.accounts)) >= 0.95 * len(members)


def test_accounts_each_posting_two_of_a_pool_of_twenty_messages_are_one_card() -> None:
    # two messages of the pool share one poster or none, too few for co-posting to link any pair; the
    # accounts that each posted two of them tie the pool together as a set (`pools`)
    scene = Scene(seed=14, organic_accounts=4000)
    pool = [text for text in (scene.own_text() for _ in range(400)) if len(text) >= 60][:20]
    members = scene.campaign(30, ages=(30, 180), messages=pool, per_account=(2, 2), hours=3)
    [card] = holding(scene.clusters(), members)
    assert len(members & set(card.accounts)) >= 0.9 * len(members)
    assert any("co-posted" in reason for reason in card.reasons)
