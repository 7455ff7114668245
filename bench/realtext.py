"""Benchmark post files of real language: the honeypot's legitimate users' tweets, plus campaigns.

The old generator wrote invented syllable words, which normalise and hash far more cheaply than
real posts (many scripts, emoji, links, mentions); speed measured on them flatters the scan. This
builder makes files of the same record shape from `data/honeypot/legitimate.jsonl.gz`:

- organic posts by old accounts: each real tweet once, in a seeded order; past the 95,627 real
  tweets, splices of two of them (the start of one up to a word boundary near its middle, the end
  of another from one), so a million-post file holds a million mostly distinct real-language texts,
  not ten copies of each tweet; a tenth carry an image;
- per 5,000 posts, campaigns by new accounts within an hour: exact copies of one tweet, lightly
  edited copies (a tag, an emoji, a prefix, case), copies that share a link, and unrelated texts
  that share an image, so the index has real joining and verifying to do.

It is deterministic for a seed. `bench/run.py` and `bench/load.py` build from it; by hand:

    python bench/realtext.py bench/data/real-100000-seed1/posts.jsonl.gz --posts 100000 --seed 1
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "data" / "honeypot" / "legitimate.jsonl.gz"
START = datetime(2026, 2, 20, tzinfo=UTC)
DAY_SECONDS = 86400
POSTS_PER_ROUND = 5000
"""One campaign of each kind per this many posts."""
CAMPAIGN_KINDS = ("identical", "edited", "link", "image")
MIN_CAMPAIGN_CHARS = 40
"""A campaign message is a tweet at least this long (a specific message, not 'good morning')."""
IMAGE_SHARE = 0.1
NEW_ACCOUNT_SHARE = 0.3
"""Share of a first day's organic posts that come from an account not seen before (about 3 posts an account)."""
RETURNING_NEW = 0.03
"""Share of a later day's organic posts that come from a new account; the rest are the earlier days' accounts."""
_EDITS = ("#vote", "#truth", "🔥", "👇", "!!!", "💯")
_PREFIXES = ("Agree!", "RT @news:", "So true:", "This!")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def load_users(source: Path = SOURCE) -> list[dict[str, Any]]:
    """The legitimate users of the honeypot set, each with its tweets."""
    with gzip.open(source, "rb") as stream:
        return [orjson.loads(line) for line in stream]


def _cut(text: str, rng: random.Random) -> int:
    """A cut point near the middle of `text`: the next space, or the middle itself (CJK has none)."""
    middle = len(text) // 2 + rng.randint(-len(text) // 6, len(text) // 6)
    space = text.find(" ", middle)
    return space if 0 < space < len(text) - 1 else middle


class RealText:
    """Seeded source of real-language post texts and of the accounts that post them."""

    def __init__(self, seed: int, users: list[dict[str, Any]]) -> None:
        self.rng = random.Random(seed)
        self.users = users
        self.tweets = [text for user in users for text in user["texts"] if text.strip()]
        self.rng.shuffle(self.tweets)
        self.messages = [text for text in self.tweets if len(text) >= MIN_CAMPAIGN_CHARS]
        self._next = 0
        self._accounts = 0

    def organic_text(self) -> str:
        """Each real tweet once in a seeded order, then splices of two of them."""
        index, self._next = self._next, self._next + 1
        if index < len(self.tweets):
            return self.tweets[index]
        head, tail = self.rng.choice(self.tweets), self.rng.choice(self.tweets)
        return head[:_cut(head, self.rng)] + tail[_cut(tail, self.rng):]

    def account(self, prefix: str, *, new: bool, posted: datetime) -> dict[str, Any]:
        """An author whose profile counts are a real user's; new accounts are days old, others years."""
        rng = self.rng
        user = rng.choice(self.users)
        self._accounts += 1
        created = posted - (timedelta(days=rng.uniform(1, 20)) if new else timedelta(days=rng.uniform(200, 4000)))
        return {"id": f"{prefix}{user['user']}-{self._accounts}", "handle": f"user{self._accounts}",
                "display_name": "", "created_at": _stamp(created), "posts_count": user["posts"],
                "followers_count": rng.randint(0, 12) if new else user["followers"],
                "following_count": user["following"], "default_avatar": new and rng.random() < 0.7}


def _image(rng: random.Random) -> dict[str, str]:
    return {"url": f"https://img.example/{rng.getrandbits(40):x}.jpg",
            "sha256": hashlib.sha256(rng.getrandbits(128).to_bytes(16, "big")).hexdigest(),
            "phash": f"{rng.getrandbits(64):016x}"}


def _edited(rng: random.Random, text: str) -> str:
    """A copy-paste campaign's light edit: a tag or emoji, a prefix, or shouting."""
    choice = rng.randrange(3)
    if choice == 0:
        return f"{text} {rng.choice(_EDITS)}"
    if choice == 1:
        return f"{rng.choice(_PREFIXES)} {text}"
    return text.upper()


def _campaign(source: RealText, kind: str, start: datetime, prefix: str) -> Iterator[dict[str, Any]]:
    """The posts of one campaign of `kind`: 15-35 new accounts within an hour of `start`."""
    rng = source.rng
    message, image = rng.choice(source.messages), _image(rng)
    link = f"https://promo.example/{rng.getrandbits(32):x}"
    for _ in range(rng.randint(15, 35)):
        when = start + timedelta(seconds=rng.uniform(0, 3600))
        author = source.account(prefix, new=True, posted=when)
        text, media, urls = message, [], []
        if kind == "edited":
            text = _edited(rng, message)
        elif kind == "link":
            text, urls = f"{_edited(rng, message)} {link}", [link]
        elif kind == "image":
            text, media = source.organic_text(), [image]
        yield {"author": author, "created_at": _stamp(when), "text": text, "media": media, "urls": urls}


def records(posts: int, seed: int, start: datetime = START, prefix: str = "",
            users: list[dict[str, Any]] | None = None, campaigns: int | None = None,
            returning: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """About `posts` post records over the day from `start`, oldest first; ids and accounts carry `prefix`.

    `campaigns` (default: one of each kind per POSTS_PER_ROUND posts) is rounded up to a whole round of kinds.
    `returning` holds the organic accounts of the days before, who post again (a few new ones join, RETURNING_NEW
    of the posts); the list is extended with the day's new accounts. Without it every account is new.
    """
    source = RealText(seed, users if users is not None else load_users())
    rng = source.rng
    made: list[dict[str, Any]] = []
    rounds = max(1, posts // POSTS_PER_ROUND) if campaigns is None else -(-campaigns // len(CAMPAIGN_KINDS))
    for _ in range(rounds):
        for kind in CAMPAIGN_KINDS:
            made.extend(_campaign(source, kind, start + timedelta(seconds=rng.uniform(0, DAY_SECONDS * 0.9)),
                                  prefix))
    organic = returning if returning is not None else []
    joining = RETURNING_NEW if organic else NEW_ACCOUNT_SHARE
    while len(made) < posts:
        if not organic or rng.random() < joining:
            organic.append(source.account(prefix, new=False, posted=start))
        when = start + timedelta(seconds=rng.uniform(0, DAY_SECONDS))
        media = [_image(rng)] if rng.random() < IMAGE_SHARE else []
        made.append({"author": rng.choice(organic), "created_at": _stamp(when), "text": source.organic_text(),
                     "media": media, "urls": []})
    for number, record in enumerate(made, 1):
        record["id"] = f"{prefix}p{number}"
    made.sort(key=lambda record: record["created_at"])
    return made


def write(path: Path, posts: list[dict[str, Any]]) -> Path:
    """Write the records as JSONL (gzip when the name ends in .gz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (gzip.open(path, "wb", compresslevel=1) if path.suffix == ".gz" else path.open("wb")) as stream:
        stream.writelines(orjson.dumps(record) + b"\n" for record in posts)
    return path


def main() -> int:
    """Command line: write a real-text post file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--posts", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(write(args.path, records(args.posts, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
