"""The demo's built-in feed: a small, deterministic day of posts with campaigns among organic chatter.

The chatter is real: tweets of the honeypot study's legitimate users (`cli.real_text`), one
account each, so the demo's cards stand out from real language as they would on a platform.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from cli.real_text import real_users

START = datetime(2026, 2, 20, 6, 0, tzinfo=UTC)

CAMPAIGNS: list[dict[str, Any]] = [
    {"text": "Candidate X is the ONLY one who will fix healthcare. Vote X on March 3! #VoteX",
     "accounts": 14, "minutes": 40, "start": 3.0, "new": True, "variants": [" 🇺🇸", "!!", " #Healthcare", ""],
     "batch": True},
    {"text": "Huge giveaway: claim your free gift card now before it runs out",
     "accounts": 9, "minutes": 25, "start": 7.5, "new": True, "variants": ["", " 🎁", " !!!"],
     "url": "https://promo.example/claim?utm_source=bot{n}"},
    {"text": "{x} — look at this", "accounts": 7, "minutes": 90, "start": 5.0, "new": True, "variants": [""],
     "captions": ["garden", "Lisbon", "sourdough", "quilt", "jazz", "ramen", "Oslo", "bike", "vinyl", "Mochi"],
     "image": "9f2c1a7b3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1"},
]


def _account(rng: random.Random, prefix: str, number: int, new: bool, age_days: float | None = None) -> dict[str, Any]:
    age = timedelta(days=age_days if age_days is not None else rng.uniform(1, 12) if new else rng.uniform(200, 3000))
    return {
        "id": f"{prefix}{number}", "handle": f"{prefix}{number}", "display_name": f"{prefix.title()} {number}",
        "created_at": (START - age).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "posts_count": rng.randint(1, 30) if new else rng.randint(100, 9000),
        "followers_count": rng.randint(0, 6) if new else rng.randint(40, 2000),
        "following_count": rng.randint(50, 400), "default_avatar": new and rng.random() < 0.8,
    }


def sample_posts(seed: int = 7) -> list[dict[str, Any]]:
    """Post records for one day: organic posts, an organic 'good morning' wave, and three campaigns."""
    rng = random.Random(seed)
    posts: list[dict[str, Any]] = []

    def add(author: dict[str, Any], when: datetime, text: str, **extra: Any) -> None:
        posts.append({"id": f"p{len(posts) + 1}", "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "text": text, "author": author, **extra})

    people = []
    for number, user in enumerate(rng.sample(real_users(), 120)):
        person = _account(rng, "user", number, new=rng.random() < 0.05)
        people.append(person)
        for text in user.texts[:4]:
            add(person, START + timedelta(minutes=rng.uniform(0, 720)), text)
    for person in rng.sample(people, 10):  # organic copies: unrelated old accounts, spread over hours
        add(person, START + timedelta(minutes=rng.uniform(0, 300)), "Good morning everyone, have a great day!")
    for number, campaign in enumerate(CAMPAIGNS):
        begin = START + timedelta(hours=campaign["start"])
        batch_age = rng.uniform(8, 12)  # a bot farm's accounts, made within the same hour
        for index in range(campaign["accounts"]):
            age = batch_age + rng.uniform(0, 1 / 24) if campaign.get("batch") else None
            author = _account(rng, f"c{number}x", index, new=campaign["new"], age_days=age)
            caption = rng.choice(campaign.get("captions", [""]))
            text = campaign["text"].format(x=caption) + rng.choice(campaign["variants"])
            extra: dict[str, Any] = {}
            if "url" in campaign:
                extra["urls"] = [campaign["url"].format(n=index)]
            if "image" in campaign:
                extra["media"] = [{"url": f"https://cdn.example/{index}.jpg", "sha256": campaign["image"]}]
            add(author, begin + timedelta(minutes=rng.uniform(0, campaign["minutes"])), text, **extra)
    posts.sort(key=lambda post: (post["created_at"], post["id"]))
    return posts


def write_sample_feed(path: Path, seed: int = 7) -> Path:
    """Write the sample feed as JSONL at `path` and return it."""
    path.write_bytes(b"".join(orjson.dumps(post) + b"\n" for post in sample_posts(seed)))
    return path
