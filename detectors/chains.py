"""Time chains: the posts of one message group that the rolling window could have seen together.

The bot only ever holds `window_hours` of posts, so two posts of the same text a week apart are
never in one of its groups. A batch over a longer period (a backfill, a month's file) splits each
message group wherever consecutive posts are more than a window apart, so `scan` means what the
bot means, and a text posted in March and again in June makes two groups, not one.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from domain.models import Post

_BY_TIME = attrgetter("created_at", "id")


def time_chains(posts: Sequence[Post], window_seconds: float) -> list[list[Post]]:
    """`posts` in time order, split wherever the gap between consecutive posts exceeds `window_seconds`."""
    ordered = sorted(posts, key=_BY_TIME)
    chains: list[list[Post]] = []
    for post in ordered:
        if chains and (post.created_at - chains[-1][-1].created_at).total_seconds() <= window_seconds:
            chains[-1].append(post)
        else:
            chains.append([post])
    return chains
