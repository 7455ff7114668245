"""Real organic text for generated data: the tweets of the honeypot study's legitimate users.

Generated posts carry real language (many scripts, emoji, links, mentions, stock phrases) rather
than invented words, which are both easier to tell apart and about four times faster to process.
The file and its source are described in `data/honeypot/README.md`.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson

LEGITIMATE_TWEETS = Path(__file__).resolve().parents[1] / "data" / "honeypot" / "legitimate.jsonl.gz"


@dataclass(frozen=True, slots=True)
class RealUser:
    """One legitimate account of the study: its profile counts and its tweets."""

    user: str
    followers: int
    following: int
    posts: int
    texts: tuple[str, ...]


@cache
def real_users(path: Path = LEGITIMATE_TWEETS) -> tuple[RealUser, ...]:
    """Every account of the file, in file order (read once per process)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: the real-text sample is missing; it ships with the repository "
                                f"(data/honeypot/legitimate.jsonl.gz)")
    with gzip.open(path, "rb") as stream:
        rows = [orjson.loads(line) for line in stream if line.strip()]
    return tuple(RealUser(str(row["user"]), int(row["followers"]), int(row["following"]), int(row["posts"]),
                          tuple(row["texts"])) for row in rows)


def splice(rng: random.Random, first: str, second: str) -> str:
    """A new real-language text: the opening words of one tweet and the closing words of another.

    Used once the file's tweets are used up, so a large data set does not repeat each tweet
    verbatim (which would make every tweet a group of identical posts).
    """
    head, tail = first.split(), second.split()
    if len(head) < 2 or len(tail) < 2:
        return f"{first} {second}"
    return " ".join(head[: rng.randint(1, len(head) - 1)] + tail[rng.randint(1, len(tail) - 1):])
