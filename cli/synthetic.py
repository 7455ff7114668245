"""A deterministic generator of labelled posts: organic chatter, hard negatives, and campaigns of each kind.

It writes the post records of docs/formats.md and `labels.csv` (`account_id,label,campaign`), so detection
can be measured on data whose truth is known. Campaign names start with their kind
(`identical-3`); hard-negative groups are organic accounts whose campaign column starts with
`hard:` so evaluation can report each by kind.

    python -m cli.synthetic OUT_DIR --posts 100000 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

START = datetime(2026, 2, 20, tzinfo=UTC)
DAY = timedelta(days=1)
POSTS_PER_ROUND = 5000
"""One campaign of every kind and one group of every hard negative per this many posts."""

CAMPAIGN_KINDS = ("identical", "edited", "evasion", "image", "phash", "small", "slow", "coposting")
HARD_NEGATIVES = ("quote", "good_morning", "petition", "headline", "new_accounts")

_SYLLABLE_TEXT = "ka lo mi ne ru ta vo zi be da fe gu ho ji ku la ma no pe qui ri so tu ve wa xe yo ze"
_SYLLABLES = _SYLLABLE_TEXT.split()
_COMMON_TEXT = "the a to and of in is it for on with my this that was so we you are at"
_COMMON = _COMMON_TEXT.split()
_QUOTES = [
    "Be yourself; everyone else is already taken.",
    "In the middle of difficulty lies opportunity.",
    "The only way to do great work is to love what you do.",
    "Life is what happens when you're busy making other plans.",
]
_GREETINGS = ["good morning!", "Good morning ☀️", "good morning everyone", "GOOD MORNING"]
_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}


class _Builder:
    """Accumulates posts and labels with one seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.posts: list[dict[str, Any]] = []
        self.labels: dict[str, tuple[str, str]] = {}
        self.vocabulary = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in ("", "n", "s")]

    def words(self, count: int) -> str:
        """A sentence of invented words with common ones mixed in, unique with near certainty."""
        rng = self.rng
        return " ".join(rng.choice(_COMMON) if rng.random() < 0.3 else rng.choice(self.vocabulary)
                        for _ in range(count))

    def message(self) -> str:
        """A campaign-style message of two sentences, long enough to be specific."""
        return f"{self.words(9).capitalize()}. {self.words(8).capitalize()}!"

    def account(self, label: str, campaign: str, *, new: bool, posted: datetime,
                bunch: datetime | None = None) -> dict[str, Any]:
        """An author object; new accounts are days old at posting, others years, with matching profiles."""
        rng = self.rng
        account_id = f"u{len(self.labels) + 1}"
        self.labels[account_id] = (label, campaign)
        if new:
            origin = bunch or posted - timedelta(days=rng.uniform(1, 20))
            created = origin + timedelta(hours=rng.uniform(0, 48))
            created = min(created, posted - timedelta(hours=1))
            followers, avatar = rng.randint(0, 12), rng.random() < 0.7
        else:
            created = posted - timedelta(days=rng.uniform(200, 4000))
            followers, avatar = int(rng.lognormvariate(5, 1.2)), rng.random() < 0.05
        return {"id": account_id, "handle": f"user{account_id}", "display_name": account_id,
                "created_at": _stamp(created), "posts_count": rng.randint(1, 5000),
                "followers_count": followers, "following_count": rng.randint(0, 800),
                "default_avatar": avatar}

    def post(self, author: dict[str, Any], when: datetime, text: str, *,
             media: list[dict[str, str]] | None = None, urls: list[str] | None = None) -> None:
        """Append one post record."""
        self.posts.append({"id": f"p{len(self.posts) + 1}", "created_at": _stamp(when), "text": text,
                           "author": author, "media": media or [], "urls": urls or []})

    def moment(self, start: datetime = START, span: timedelta = DAY) -> datetime:
        """A random time in [start, start + span)."""
        return start + span * self.rng.random()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _image(rng: random.Random) -> dict[str, str]:
    return {"url": f"https://img.example/{rng.getrandbits(40):x}.jpg",
            "sha256": hashlib.sha256(rng.getrandbits(128).to_bytes(16, "big")).hexdigest(),
            "phash": f"{rng.getrandbits(64):016x}"}


def _light_edit(rng: random.Random, text: str) -> str:
    """What copy-paste campaigns do to dodge exact matching: tags, emoji, case, prefixes, a swapped word."""
    words = text.split()
    choice = rng.randrange(6)
    if choice == 0:
        words.append(rng.choice(["#vote", "#now", "#truth", "#2026", "#wakeup"]))
    elif choice == 1:
        words.append(rng.choice(["🔥", "👇", "!!!", "💯"]))
    elif choice == 2:
        words = [w.upper() if rng.random() < 0.3 else w for w in words]
    elif choice == 3:
        words.insert(0, rng.choice(["Agree!", "RT @news:", "So true:", "This!"]))
    elif choice == 4:
        i = rng.randrange(len(words))
        words[i] = rng.choice(["really", "truly", "very"])
    else:
        first, _, second = text.partition(". ")
        return f"{second} {first}." if second else text
    return " ".join(words)


def _evade(rng: random.Random, text: str) -> str:
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


def _campaign(b: _Builder, kind: str, name: str) -> None:
    rng = b.rng
    size = rng.randint(5, 10) if kind == "small" else rng.randint(8, 12) if kind == "coposting" \
        else rng.randint(15, 35)
    start = b.moment(START, DAY * 0.6)
    span = timedelta(hours=rng.uniform(4, 9)) if kind in ("slow", "coposting") else timedelta(minutes=40)
    bunch = start - timedelta(days=rng.uniform(2, 15))
    new = kind != "coposting"
    authors = [b.account("coordinated", name, new=new, posted=start, bunch=bunch) for _ in range(size)]
    base, image = b.message(), _image(rng)
    messages = [b.message() for _ in range(4)]
    edits: dict[str, Callable[[], tuple[str, list[dict[str, str]]]]] = {
        "identical": lambda: (base, []),
        "edited": lambda: (_light_edit(rng, base), []),
        "slow": lambda: (_light_edit(rng, base), []),
        "small": lambda: (_light_edit(rng, base), []),
        "evasion": lambda: (_evade(rng, base), []),
        "image": lambda: (b.words(rng.randint(4, 10)), [image]),
        "phash": lambda: (b.words(rng.randint(4, 10)),
                          [{**_image(rng), "phash": _near(rng, image["phash"])}]),
    }
    for author in authors:
        if kind == "coposting":
            for text in messages:
                if rng.random() < 0.85:
                    b.post(author, b.moment(start, span), _light_edit(rng, text))
            continue
        text, media = edits[kind]()
        b.post(author, b.moment(start, span), text, media=media)


def _near(rng: random.Random, phash: str) -> str:
    value = int(phash, 16)
    for bit in rng.sample(range(64), rng.randint(0, 3)):
        value ^= 1 << bit
    return f"{value:016x}"


def _hard_negative(b: _Builder, kind: str) -> None:
    rng = b.rng
    name = "hard:" + kind
    if kind == "quote":
        quote = rng.choice(_QUOTES)
        for _ in range(rng.randint(20, 40)):
            when = b.moment()
            b.post(b.account("organic", name, new=False, posted=when), when, f"\u201c{quote}\u201d")
    elif kind == "good_morning":
        for _ in range(rng.randint(30, 60)):
            when = b.moment(START, DAY / 2)
            b.post(b.account("organic", name, new=False, posted=when), when, rng.choice(_GREETINGS))
    elif kind == "petition":
        title = b.words(5).title()
        link = f"https://petition.example/{title.replace(' ', '-').lower()}"
        for _ in range(rng.randint(20, 40)):
            when = b.moment()
            url = f"{link}?utm_source=share&ref={rng.getrandbits(24):x}"
            b.post(b.account("organic", name, new=False, posted=when), when,
                   f"I just signed the petition \"{title}\". Sign it too! {url}", urls=[url])
    elif kind == "headline":
        headline = f"BREAKING: {b.words(10).capitalize()}"
        link = f"https://news.example/{rng.getrandbits(32):x}"
        hour = b.moment()
        for _ in range(rng.randint(30, 60)):
            when = b.moment(hour, timedelta(hours=1))
            sharer = b.account("organic", name, new=False, posted=when)
            b.post(sharer, when, f"{headline} {link}", urls=[link])
    else:
        for _ in range(rng.randint(10, 20)):
            when = b.moment()
            author = b.account("organic", name, new=True, posted=when)
            for _ in range(rng.randint(1, 3)):
                b.post(author, b.moment(when, timedelta(hours=3)), b.words(rng.randint(6, 16)).capitalize())


def generate(n_posts: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """About `n_posts` post records and one label row per account, identical for the same seed."""
    b = _Builder(seed)
    for round_index in range(max(1, n_posts // POSTS_PER_ROUND)):
        for kind in CAMPAIGN_KINDS:
            _campaign(b, kind, f"{kind}-{round_index}")
        for kind in HARD_NEGATIVES:
            _hard_negative(b, kind)
    organic_accounts: list[dict[str, Any]] = []
    while len(b.posts) < n_posts:
        if not organic_accounts or b.rng.random() < 0.3:
            organic_accounts.append(b.account("organic", "", new=b.rng.random() < 0.05, posted=START))
        media = [_image(b.rng)] if b.rng.random() < 0.1 else []
        b.post(b.rng.choice(organic_accounts), b.moment(), b.words(b.rng.randint(5, 20)).capitalize(),
               media=media)
    b.posts.sort(key=lambda record: record["created_at"])
    labels = [{"account_id": account, "label": label, "campaign": campaign}
              for account, (label, campaign) in b.labels.items()]
    return b.posts, labels


def write(out_dir: Path, posts: list[dict[str, Any]], labels: list[dict[str, str]], gz: bool = True) -> Path:
    """Write `posts.jsonl[.gz]` and `labels.csv` into `out_dir`; return the posts file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ("posts.jsonl.gz" if gz else "posts.jsonl")
    with (gzip.open(path, "wb", compresslevel=1) if gz else path.open("wb")) as stream:
        for record in posts:
            stream.write(orjson.dumps(record) + b"\n")
    with (out_dir / "labels.csv").open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["account_id", "label", "campaign"])
        writer.writeheader()
        writer.writerows(labels)
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: write a generated data set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--posts", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain", action="store_true", help="write posts.jsonl instead of .jsonl.gz")
    args = parser.parse_args(argv)
    posts, labels = generate(args.posts, args.seed)
    print(write(args.out_dir, posts, labels, gz=not args.plain))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
