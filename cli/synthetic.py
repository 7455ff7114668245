"""A randomised generator of labelled posts on real text: organic chatter, organic look-alikes, campaigns.

Every campaign draws its parameters at random from wide ranges (3-500 accounts; accounts 1 day to
10 years old, 1-6 months well represented, created in a batch or spread out; posting spread 5 min
to 36 h; 1-6 messages per account out of a pool of 1-20, random subsets; no, light or evasive
edits; 0-100 % of posts with a shared image; some messages copied from organic posts; own captions
under a shared image), so an evaluation shows what the detector does on campaigns its author did
not picture. Organic text is real: the tweets of the honeypot study's legitimate users
(`cli.real_text`). Organic look-alikes ("hard negatives": a viral quote, a headline, a
petition's share text, greetings, a meme image under people's own captions, fans sharing a few
announcements) are posted by ordinary organic accounts, with sizes from the same range.

Output: post records, `labels.csv` (`account_id,label,campaign`) and `truth.json`: each campaign's
parameters and accounts (with which of them share content with two others of the campaign, the
only accounts content-based detection can find), and each look-alike group's accounts.

    python -m cli.synthetic OUT_DIR --posts 100000 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import math
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from cli.real_text import RealUser, real_users, splice

START = datetime(2026, 2, 20, tzinfo=UTC)
HOURS = 48.0
"""The generated data covers this many hours from START."""
POSTS_PER_CAMPAIGN = 1500
"""One campaign and one organic look-alike group per this many generated posts."""
CAMPAIGN_SIZE = (3, 500)
AGE_DAYS = (1.0, 3650.0)
MONTHS_DAYS = (30.0, 180.0)
"""Half the campaigns draw their accounts' age from 1-6 months, the rest from the whole range."""
SPREAD_HOURS = (5 / 60, 36.0)
POOL = (1, 20)
PER_ACCOUNT = (1, 6)
EDITS = ("none", "light", "evasive")
LOOKALIKES = ("quote", "headline", "petition", "greeting", "meme", "fans")
MIN_MESSAGE_WORDS = 6
"""Pre-written campaign messages and shared quotes are sentences, not 'lol'."""

_GREETINGS = ["good morning!", "Good morning ☀️", "good morning everyone", "GOOD MORNING", "gm", "Morning all!",
              "buenos días", "guten Morgen", "おはよう", "bom dia!", "good night", "Good night all 😴"]
_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}
_TAGS = ["#vote", "#now", "#truth", "#2026", "#wakeup", "#share", "#news", "#mustread"]
_EMOJI = ["🔥", "👇", "!!!", "💯", "🙏", "😡", "👍"]
_PREFIXES = ["Agree!", "RT @news:", "So true:", "This!", "Read this:", "Wow.", "Exactly!"]
_WORD = re.compile(r"\w+")
_LINK = re.compile(r"https?://\S+")


def _template_key(text: str) -> str:
    """The words of a text without links, numbers and case: app posts and spam templates share it."""
    return " ".join(word for word in _WORD.findall(_LINK.sub("", text).lower()) if not word.isdigit())[:60]


def _templates(users: list[RealUser]) -> set[str]:
    """Template keys that more than one real text shares ("just joined a video chat with 48 other people").

    Such texts are kept as organic posts (real people's apps post them) but never become a campaign's
    message or a shared quote: a campaign whose message is a near-copy of many organic posts, or of
    another campaign's message, is not one campaign any more, and no truth could say who is in it.
    """
    seen = Counter(_template_key(text) for user in users for text in user.texts)
    return {key for key, count in seen.items() if count > 1}


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class CampaignPlan:
    """One campaign's randomly drawn parameters (what `eval` bins recall by)."""

    name: str
    accounts: int
    age_days: float
    creation_spread: float
    """Accounts' ages vary by up to this share of `age_days` (0: created in one batch)."""
    spread_hours: float
    pool: int
    per_account: tuple[int, int]
    edit: str
    image_share: float
    reencoded: bool
    own_captions: bool
    copied: int
    """Messages of the pool copied from posts of organic accounts."""
    default_avatar: float
    median_followers: float
    filler: float
    """Posts of their own per account, on average, beside the campaign's."""


@dataclass(slots=True)
class Truth:
    """What detection should find: each campaign's plan and accounts, each look-alike group's accounts."""

    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    lookalikes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class Generated:
    """Post records sorted by time, one label row per account, and the truth behind them."""

    posts: list[dict[str, Any]]
    labels: list[dict[str, str]]
    truth: Truth


class _Builder:
    """Accumulates posts, accounts and truth from one seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.posts: list[dict[str, Any]] = []
        self.labels: dict[str, tuple[str, str]] = {}
        self.truth = Truth()
        users = list(real_users())
        self.rng.shuffle(users)
        reserved = len(users) // 6
        templates = _templates(users)
        self._message_texts = [text for user in users[:reserved] for text in user.texts
                               if len(_WORD.findall(_LINK.sub("", text))) >= MIN_MESSAGE_WORDS
                               and _template_key(text) not in templates]
        self.rng.shuffle(self._message_texts)
        self._real = users[reserved:]
        self._next_real = 0
        self.organic: list[dict[str, Any]] = []
        self._texts_of: dict[str, list[str]] = {}

    # -- accounts -------------------------------------------------------------------------------

    def _account_id(self) -> str:
        return f"u{len(self.labels) + 1}"

    def organic_account(self) -> dict[str, Any]:
        """An ordinary account modelled on the next real user: its counts and its tweets.

        Ages span the whole range: mostly years, some months, a few days (new people join every day).
        """
        rng = self.rng
        real = self._real[self._next_real % len(self._real)]
        reused = self._next_real >= len(self._real)
        self._next_real += 1
        draw = rng.random()
        age = (_log_uniform(rng, 1, 30) if draw < 0.06 else rng.uniform(30, 365) if draw < 0.25
               else _log_uniform(rng, 365, AGE_DAYS[1]))
        avatar = rng.random() < (0.45 if age < 30 else 0.15 if age < 365 else 0.05)
        account = self._author(age, avatar, real.followers, real.following, real.posts, START)
        self.labels[account["id"]] = ("organic", "")
        texts = list(real.texts)
        if reused:
            other = self._real[rng.randrange(len(self._real))].texts
            texts = [splice(rng, text, rng.choice(other)) for text in texts]
        self._texts_of[account["id"]] = texts
        self.organic.append(account)
        return account

    def _author(self, age_days: float, avatar: bool, followers: int, following: int, posts: int,
                at: datetime) -> dict[str, Any]:
        account_id = self._account_id()
        created = at - timedelta(days=age_days)
        return {"id": account_id, "handle": f"user{account_id}", "display_name": f"User {account_id}",
                "created_at": _stamp(created), "posts_count": posts, "followers_count": followers,
                "following_count": following, "default_avatar": avatar}

    # -- posts ----------------------------------------------------------------------------------

    def post(self, author: dict[str, Any], when: datetime, text: str, *,
             media: list[dict[str, str]] | None = None) -> None:
        """Append one post record; links in the text are also its `urls`."""
        created = datetime.fromisoformat(author["created_at"])
        when = max(when, created + timedelta(minutes=5))
        self.posts.append({"id": f"p{len(self.posts) + 1}", "created_at": _stamp(when), "text": text,
                           "author": author, "media": media or [], "urls": _LINK.findall(text)})

    def own_text(self, account: dict[str, Any]) -> str:
        """One of the account's own (real) texts."""
        texts = self._texts_of.get(account["id"]) or self._real[self.rng.randrange(len(self._real))].texts
        return self.rng.choice(texts)

    def filler(self) -> str:
        """A real-language text of nobody in particular, for a campaign account's posts of its own."""
        real = self._real
        return splice(self.rng, self.rng.choice(real[self.rng.randrange(len(real))].texts),
                      self.rng.choice(real[self.rng.randrange(len(real))].texts))

    def message(self) -> str:
        """A real sentence nobody else in the data posts: a pre-written campaign message or a quote."""
        if not self._message_texts:
            raise ValueError("the real-text sample has no sentences left for messages")
        return self._message_texts.pop()

    def moment(self, start: float = 0.0, span: float = HOURS) -> datetime:
        """A uniform random time `start` to `start + span` hours after START."""
        return START + timedelta(hours=start + span * self.rng.random())

    def organic_chatter(self, count: int) -> None:
        """`count` posts of organic accounts' own texts at random times, 10 % with a picture of their own."""
        rng = self.rng
        while count > 0:
            account = self.organic_account()
            for text in self._texts_of[account["id"]][:count]:
                media = [_image(rng)] if rng.random() < 0.1 else []
                self.post(account, self.moment(), text, media=media)
                count -= 1


def _image(rng: random.Random) -> dict[str, str]:
    return {"url": f"https://img.example/{rng.getrandbits(40):x}.jpg",
            "sha256": hashlib.sha256(rng.getrandbits(128).to_bytes(16, "big")).hexdigest(),
            "phash": f"{rng.getrandbits(64):016x}"}


def _reencoded(rng: random.Random, image: dict[str, str]) -> dict[str, str]:
    """The same picture saved again: a new file (sha256) whose perceptual hash moved by 0-3 bits."""
    value = int(image["phash"], 16)
    for bit in rng.sample(range(64), rng.randint(0, 3)):
        value ^= 1 << bit
    return {**_image(rng), "phash": f"{value:016x}"}


def light_edit(rng: random.Random, text: str) -> str:
    """What copy-paste campaigns do to dodge exact matching: a tag, emoji, case, a prefix, a word, a typo."""
    words = text.split()
    choice = rng.randrange(7)
    if choice == 0:
        words.append(rng.choice(_TAGS))
    elif choice == 1:
        words.append(rng.choice(_EMOJI))
    elif choice == 2:
        words = [w.upper() if rng.random() < 0.3 else w for w in words]
    elif choice == 3:
        words.insert(0, rng.choice(_PREFIXES))
    elif choice == 4 and len(words) > 3:
        words[rng.randrange(len(words))] = rng.choice(["really", "truly", "very", "so"])
    elif choice == 5 and len(words) > 3:
        at = rng.randrange(len(words))
        word = words[at]
        if len(word) > 3:
            cut = rng.randrange(1, len(word) - 1)
            words[at] = word[:cut] + word[cut + 1:]
    else:
        first, _, second = text.partition(". ")
        return f"{second} {first}." if second else f"{text} {rng.choice(_EMOJI)}"
    return " ".join(words)


def evade(rng: random.Random, text: str) -> str:
    """Disguise a copy: look-alike letters, zero-width characters, full-width or stylised letters, spacing."""
    choice = rng.randrange(5)
    if choice == 0:
        return "".join(_HOMOGLYPHS.get(ch, ch) if rng.random() < 0.5 else ch for ch in text)
    if choice == 1:
        return "\u200b".join(text[i:i + 3] for i in range(0, len(text), 3))
    if choice == 2:
        return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)
    if choice == 3:
        return "".join(chr(0x1D41A + ord(ch) - 97) if "a" <= ch <= "z" else ch for ch in text)
    first, *rest = text.split(" ")
    return " ".join([" ".join(first), *rest])


def _plan(rng: random.Random, name: str) -> CampaignPlan:
    low, high = PER_ACCOUNT
    most = rng.randint(low, high)
    own_captions = rng.random() < 0.15
    image_share = rng.uniform(0.5, 1.0) if own_captions else (0.0 if rng.random() < 0.4 else rng.random())
    pool = rng.randint(*POOL)
    return CampaignPlan(
        name=name,
        accounts=round(_log_uniform(rng, *CAMPAIGN_SIZE)),
        age_days=rng.uniform(*MONTHS_DAYS) if rng.random() < 0.5 else _log_uniform(rng, *AGE_DAYS),
        creation_spread=0.0 if rng.random() < 0.3 else rng.uniform(0.05, 0.95),
        spread_hours=_log_uniform(rng, *SPREAD_HOURS),
        pool=pool,
        per_account=(rng.randint(low, most), most),
        edit=rng.choice(EDITS),
        image_share=image_share,
        reencoded=rng.random() < 0.4,
        own_captions=own_captions,
        copied=0 if own_captions or rng.random() < 0.7 else rng.randint(1, pool),
        default_avatar=rng.random(),
        median_followers=_log_uniform(rng, 1, 800),
        filler=0.0 if rng.random() < 0.4 else rng.uniform(0.2, 3.0),
    )


def _campaign(b: _Builder, plan: CampaignPlan) -> None:
    """Post one campaign as planned and record its truth."""
    rng = b.rng
    start = rng.uniform(0.0, HOURS - plan.spread_hours)
    started = START + timedelta(hours=start)
    pool = [b.message() for _ in range(plan.pool - plan.copied)]
    for _ in range(plan.copied):  # a real organic post whose words the campaign took over
        source = b.organic_account()
        text = b.message()
        b.post(source, b.moment(), text)
        pool.append(text)
    rng.shuffle(pool)
    images = [_image(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    accounts, items_of = [], {}
    for _ in range(plan.accounts):
        age = max(1 / 24, plan.age_days * (1 + plan.creation_spread * rng.uniform(-1, 1)))
        followers = int(plan.median_followers * rng.lognormvariate(0, 0.8))
        author = b._author(age, rng.random() < plan.default_avatar, followers, rng.randint(0, 2000),
                           rng.randint(1, 3000), started)
        b.labels[author["id"]] = ("coordinated", plan.name)
        accounts.append(author["id"])
        items: set[str] = set()
        count = rng.randint(*plan.per_account)
        picks = (rng.sample(range(plan.pool), count) if count <= plan.pool
                 else [rng.randrange(plan.pool) for _ in range(count)])
        for message in picks:
            media = []
            if rng.random() < plan.image_share:
                which = rng.randrange(len(images))
                media = [_reencoded(rng, images[which]) if plan.reencoded else images[which]]
                items.add(f"image:{which}")
            if plan.own_captions:
                text = b.own_text(b.organic[rng.randrange(len(b.organic))]) if b.organic else b.message()
            else:
                text = pool[message]
                items.add(f"message:{message}")
                if plan.edit == "light" and rng.random() < 0.8:
                    text = light_edit(rng, text)
                elif plan.edit == "evasive" and rng.random() < 0.8:
                    text = evade(rng, light_edit(rng, text) if rng.random() < 0.5 else text)
            b.post(author, b.moment(start, plan.spread_hours), text, media=media)
        for _ in range(int(plan.filler) + (rng.random() < plan.filler % 1)):
            b.post(author, b.moment(), b.filler())
        items_of[author["id"]] = items
    sharing = Counter(item for items in items_of.values() for item in items)
    detectable = [account for account in accounts if any(sharing[item] >= 3 for item in items_of[account])]
    b.truth.campaigns[plan.name] = {**asdict(plan), "members": accounts, "detectable": detectable}


def _diffusion(rng: random.Random, count: int, scale_hours: float) -> list[datetime]:
    """Times of organic sharing: a first post, then others after exponential delays of `scale_hours`."""
    first = rng.uniform(0, HOURS * 0.8)
    return [START + timedelta(hours=min(HOURS, first + (0 if i == 0 else rng.expovariate(1 / scale_hours))))
            for i in range(count)]


def _lookalike(b: _Builder, kind: str, name: str) -> None:
    """An organic group whose accounts post the same thing without coordinating."""
    rng = b.rng
    size = min(len(b.organic), round(_log_uniform(rng, *CAMPAIGN_SIZE)))
    members = rng.sample(b.organic, size)
    if kind == "greeting":
        for account in members:
            for day in range(int(HOURS // 24)):
                if rng.random() < 0.6:
                    b.post(account, START + timedelta(days=day, hours=rng.uniform(5, 10)), rng.choice(_GREETINGS))
    elif kind == "meme":
        image, reencoded = _image(rng), rng.random() < 0.5
        for account, when in zip(members, _diffusion(rng, size, _log_uniform(rng, 1, 24)), strict=True):
            b.post(account, when, b.filler(), media=[_reencoded(rng, image) if reencoded else image])
    elif kind == "fans":
        announcements = [b.message() for _ in range(rng.randint(2, 4))]
        for account, when in zip(members, _diffusion(rng, size, _log_uniform(rng, 2, 24)), strict=True):
            shared = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
            for text in rng.sample(announcements, min(shared, len(announcements))):
                b.post(account, when + timedelta(minutes=rng.uniform(0, 600)), f"RT @band: {text}")
    else:
        text = b.message()
        link = f"https://{kind}.example/{rng.getrandbits(32):x}"
        scale = _log_uniform(rng, 0.2, 3) if kind == "headline" else _log_uniform(rng, 0.5, 24)
        for account, when in zip(members, _diffusion(rng, size, scale), strict=True):
            if kind == "quote":
                shown = rng.choice([text, text, f"\u201c{text}\u201d", f"RT @{members[0]['handle']}: {text}",
                                    f"{text} {rng.choice(_EMOJI)}", f"{b.filler()} {text}"])
            elif kind == "petition":
                shown = f"I just signed \"{text}\". Sign it too! {link}?utm_source=share&ref={rng.getrandbits(24):x}"
            else:
                shown = f"{text} {link}"
            b.post(account, when, shown)
    b.truth.lookalikes[name] = {"kind": kind, "members": [account["id"] for account in members]}


def generate(n_posts: int, seed: int) -> Generated:
    """About `n_posts` post records with labels and truth, identical for the same seed."""
    b = _Builder(seed)
    rounds = max(1, round(n_posts / POSTS_PER_CAMPAIGN))
    b.organic_chatter(min(n_posts // 4, 200))  # look-alike groups need ordinary accounts to draw on
    for index in range(rounds):
        _campaign(b, _plan(b.rng, f"campaign-{index}"))
    for index in range(rounds):
        kind = LOOKALIKES[index % len(LOOKALIKES)]
        if len(b.posts) < n_posts:
            b.organic_chatter(max(0, min(n_posts - len(b.posts), 2000)))
        _lookalike(b, kind, f"hard:{kind}-{index}")
    b.organic_chatter(n_posts - len(b.posts))
    b.posts.sort(key=lambda record: record["created_at"])
    flagged_groups: dict[str, str] = {}
    for name, group in b.truth.lookalikes.items():
        for account in group["members"]:
            flagged_groups.setdefault(account, name)
    labels = [{"account_id": account, "label": label, "campaign": campaign or flagged_groups.get(account, "")}
              for account, (label, campaign) in b.labels.items()]
    return Generated(b.posts, labels, b.truth)


def write(out_dir: Path, generated: Generated, gz: bool = True) -> Path:
    """Write `posts.jsonl[.gz]`, `labels.csv` and `truth.json` into `out_dir`; return the posts file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ("posts.jsonl.gz" if gz else "posts.jsonl")
    with (gzip.open(path, "wb", compresslevel=1) if gz else path.open("wb")) as stream:
        for record in generated.posts:
            stream.write(orjson.dumps(record) + b"\n")
    with (out_dir / "labels.csv").open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["account_id", "label", "campaign"])
        writer.writeheader()
        writer.writerows(generated.labels)
    (out_dir / "truth.json").write_bytes(orjson.dumps(asdict(generated.truth), option=orjson.OPT_INDENT_2))
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: write a generated data set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--posts", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain", action="store_true", help="write posts.jsonl instead of .jsonl.gz")
    args = parser.parse_args(argv)
    print(write(args.out_dir, generate(args.posts, args.seed), gz=not args.plain))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
