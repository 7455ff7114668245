"""Behaviour inside a group: how many accounts posted its content more than once, and how tightly in time.

These hold for accounts of any age. People who share a quote, a headline or a meme post it once;
accounts run together post several of a campaign's messages each, or the same one again within
hours. And organic sharing spreads over hours to days, while a campaign is often posted in
minutes. Both are measured here from the posts alone; `scoring` weighs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from domain.models import Post

REPEAT_HOURS = 12.0
"""Two posts of one message by one account this close count as a repeat; further apart (a daily
'good morning') they are a routine."""
CORE_SHARE = 0.8
"""The group's core time span is the shortest interval holding this share of its posts."""
ORGANIC_SPREAD_HOURS = 24.0
"""How long shared content keeps being posted organically: a core span this long says nothing."""
TIGHTEST_MINUTES = 10.0
"""A core span this short or shorter is as tight as timing evidence gets."""


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How a group's accounts posted its content."""

    accounts: int
    repeaters: int
    """Accounts that posted two or more distinct messages of the group, or one again within REPEAT_HOURS."""
    posts_per_account: float
    core_seconds: float
    """Shortest span holding CORE_SHARE of the posts."""
    tightness: float
    """0 (spread like organic sharing) to 1 (within minutes), on a log scale of the core span."""

    @property
    def repeat_share(self) -> float:
        """Share of the accounts that posted more than once."""
        return self.repeaters / self.accounts if self.accounts else 0.0


def core_span(times: Sequence[float], share: float = CORE_SHARE) -> float:
    """Seconds of the shortest interval holding `share` of the (sorted) `times`."""
    if len(times) < 2:
        return 0.0
    width = max(1, math.ceil(share * len(times))) - 1
    return min(times[i + width] - times[i] for i in range(len(times) - width))


def tightness(core_seconds: float) -> float:
    """Timing evidence of a core span: 1 at TIGHTEST_MINUTES or less, 0 at ORGANIC_SPREAD_HOURS or more."""
    tightest, organic = TIGHTEST_MINUTES * 60, ORGANIC_SPREAD_HOURS * 3600
    if core_seconds <= tightest:
        return 1.0
    return max(0.0, math.log(organic / core_seconds) / math.log(organic / tightest))


def _repeats(times_and_messages: list[tuple[float, Hashable]]) -> bool:
    """Whether one account's posts show two distinct messages, or one message twice within REPEAT_HOURS."""
    if len({message for _, message in times_and_messages}) >= 2:
        return True
    times = sorted(time for time, _ in times_and_messages)
    return any(later - earlier <= REPEAT_HOURS * 3600 for earlier, later in pairwise(times))


def behaviour(posts: Sequence[Post], repeating: set[str]) -> Behaviour:
    """Measure a group from its posts and the accounts among them that repeated (see `repeaters`)."""
    accounts = len({post.author.id for post in posts})
    times = sorted(post.created_at.timestamp() for post in posts)
    core = core_span(times)
    return Behaviour(
        accounts=accounts,
        repeaters=len(repeating),
        posts_per_account=len(posts) / accounts if accounts else 0.0,
        core_seconds=core,
        tightness=tightness(core),
    )


def repeaters(posts: Sequence[Post], message_of: Callable[[Post], Hashable]) -> set[str]:
    """Accounts that posted two or more distinct messages of `posts`, or one again within REPEAT_HOURS."""
    by_account: dict[str, list[tuple[float, Hashable]]] = {}
    for post in posts:
        by_account.setdefault(post.author.id, []).append((post.created_at.timestamp(), message_of(post)))
    return {account for account, seen in by_account.items() if len(seen) >= 2 and _repeats(seen)}


def core_members(posts: Sequence[Post], message_of: Callable[[Post], Hashable], min_core: int,
                 margin_share: float = 0.25, min_margin_hours: float = 1.0) -> tuple[list[Post], set[str]]:
    """The posts of the accounts that belong to the group's core, and the accounts that repeated.

    When at least `min_core` accounts posted more than once, they define the group's time span;
    an account that did not repeat and posted only outside that span (plus a margin) is not a
    member: it is most likely the organic author whose words a campaign copied, or a passer-by
    who used a stock phrase weeks apart. Without such a core every account stays.
    """
    core = repeaters(posts, message_of)
    if len(core) < min_core:
        return list(posts), core
    times = [post.created_at.timestamp() for post in posts if post.author.id in core]
    first, last = min(times), max(times)
    margin = max(min_margin_hours * 3600, margin_share * (last - first))
    inside = {post.author.id for post in posts
              if post.author.id in core or first - margin <= post.created_at.timestamp() <= last + margin}
    return [post for post in posts if post.author.id in inside], core
