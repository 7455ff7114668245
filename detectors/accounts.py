"""Account signals: how new the accounts were when they posted and how bunched their creation is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from domain.models import Author, Post

DAY = 86400.0
MIN_BUNCH = 3
"""Fewer accounts created close together are no batch: any two accounts may share a week."""


@dataclass(frozen=True, slots=True)
class AccountSignals:
    """What the accounts of a group look like, as fractions of those that report the field."""

    accounts: int
    new_fraction: float
    median_age_days: float | None
    bunched: int
    default_avatar_fraction: float
    low_followers_fraction: float
    median_followers: float | None
    concentrated: float


def _first_posts(posts: Sequence[Post]) -> dict[str, tuple[Author, datetime]]:
    first: dict[str, tuple[Author, datetime]] = {}
    for post in posts:
        seen = first.get(post.author.id)
        if seen is None or post.created_at < seen[1]:
            first[post.author.id] = (post.author, post.created_at)
    return first


def _largest_bunch(created: list[datetime], days: float) -> int:
    """Most creation dates that fit in one span of `days` (sliding window over sorted dates)."""
    created.sort()
    best = start = 0
    for end, moment in enumerate(created):
        while (moment - created[start]).total_seconds() > days * DAY:
            start += 1
        best = max(best, end - start + 1)
    return best


def _densest_share(first_posted: list[datetime], window_days: float) -> float:
    """Share of accounts whose first post falls in the busiest span of `window_days`."""
    return _largest_bunch(first_posted, window_days) / len(first_posted) if first_posted else 0.0


def account_signals(
    posts: Sequence[Post], new_account_days: float, bunch_days: float, low_followers: int,
    window_days: float = 1.0,
) -> AccountSignals:
    """Summarise the authors of `posts`: age at posting time, creation bunching, thin profiles."""
    first = _first_posts(posts)
    ages = [
        (posted - author.created_at).total_seconds() / DAY
        for author, posted in first.values()
        if author.created_at is not None
    ]
    created = [author.created_at for author, _ in first.values() if author.created_at is not None]
    avatars = [author.default_avatar for author, _ in first.values() if author.default_avatar is not None]
    followers = [author.followers_count for author, _ in first.values() if author.followers_count is not None]
    return AccountSignals(
        accounts=len(first),
        new_fraction=sum(age <= new_account_days for age in ages) / len(ages) if ages else 0.0,
        median_age_days=median(ages) if ages else None,
        bunched=bunch if (bunch := _largest_bunch(created, bunch_days)) >= MIN_BUNCH else 0,
        default_avatar_fraction=sum(avatars) / len(avatars) if avatars else 0.0,
        low_followers_fraction=(
            sum(count <= low_followers for count in followers) / len(followers) if followers else 0.0
        ),
        median_followers=median(followers) if followers else None,
        concentrated=_densest_share([posted for _, posted in first.values()], window_days),
    )
