"""Account facts of a group: how new the accounts were when they posted, how bunched their creation, how thin.

Each is graded, never a cliff: an account days old is newer than one months old, which is newer
than one years old, and the group's newness is the mean over its accounts. These facts raise a
group's score; behaviour inside the group (`behaviour`) is what carries it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from detectors.cohort import Cohort, Population, cohort
from domain.models import Author, Post

DAY = 86400.0
FRESH_DAYS = 3.0
"""Accounts this young or younger count as entirely new."""
SETTLED_DAYS = 730.0
"""Accounts this old or older do not count as new at all; between, newness falls on a log scale."""
MIN_BUNCH = 3
"""Fewer accounts created close together are no batch: any two accounts may share a week."""
BUNCH_SHARE = 0.8
"""Creation is measured by the shortest span holding this share of the accounts' creation times."""
LOOSE_BATCH, TIGHT_BATCH = 0.5, 0.005
"""That span as a share of the accounts' median age: from the first, creation says nothing (accounts of
all ages); at the second or below, the accounts were made in one batch (hours apart, months ago)."""
BATCH_SCALE = 4.0
"""Creation evidence grows with the accounts in the batch: 1 - exp(-(n - 2) / this)."""


@dataclass(frozen=True, slots=True)
class AccountSignals:
    """What the accounts of a group look like, as fractions of those that report the field."""

    accounts: int
    newness: float
    """Mean over accounts of 1 (days old when posting) falling to 0 (two years old)."""
    new_fraction: float
    """Share of accounts younger than `new_account_days` when they posted."""
    median_age_days: float | None
    batch: CreationBatch | None
    cohort: Cohort | None
    """How unusually close together the accounts were created against those active (None without a population)."""
    default_avatar_fraction: float
    low_followers_fraction: float
    median_followers: float | None


def newness(age_days: float) -> float:
    """1 for an account FRESH_DAYS old or younger, 0 from SETTLED_DAYS, log-linear between."""
    if age_days <= FRESH_DAYS:
        return 1.0
    return max(0.0, 1.0 - math.log(age_days / FRESH_DAYS) / math.log(SETTLED_DAYS / FRESH_DAYS))


def _first_posts(posts: Sequence[Post]) -> dict[str, tuple[Author, datetime]]:
    first: dict[str, tuple[Author, datetime]] = {}
    for post in posts:
        seen = first.get(post.author.id)
        if seen is None or post.created_at < seen[1]:
            first[post.author.id] = (post.author, post.created_at)
    return first


@dataclass(frozen=True, slots=True)
class CreationBatch:
    """The BUNCH_SHARE of a group's accounts created closest together, and how strongly that says "one batch"."""

    accounts: int
    created_from: datetime
    created_until: datetime
    evidence: float
    """0 (created at all sorts of times) to 1 (many accounts made within hours, long before they posted)."""

    @property
    def span_days(self) -> float:
        """Days from the first to the last creation in the batch."""
        return (self.created_until - self.created_from).total_seconds() / DAY


def creation_batch(created: list[datetime], median_age_days: float) -> CreationBatch | None:
    """The tightest batch of the accounts' creation times (None for fewer than MIN_BUNCH accounts).

    Its span is judged against the accounts' age: a week apart is a batch for accounts a year old,
    not for accounts a week old; the evidence is graded on a log scale and grows with the batch.
    """
    if len(created) < MIN_BUNCH:
        return None
    moments = sorted(created)
    width = max(MIN_BUNCH, math.ceil(BUNCH_SHARE * len(moments))) - 1
    start = min(range(len(moments) - width), key=lambda i: moments[i + width] - moments[i])
    span = (moments[start + width] - moments[start]).total_seconds() / DAY
    ratio = max(span, 1 / 24) / max(median_age_days, 1.0)
    tight = min(1.0, max(0.0, math.log(LOOSE_BATCH / ratio) / math.log(LOOSE_BATCH / TIGHT_BATCH)))
    return CreationBatch(width + 1, moments[start], moments[start + width],
                         tight * (1 - math.exp(-(width - 1) / BATCH_SCALE)))


def largest_bunch(moments: list[datetime], days: float) -> int:
    """Most of `moments` that fit in one span of `days` (sliding window over the sorted moments)."""
    moments = sorted(moments)
    best = start = 0
    for end, moment in enumerate(moments):
        while (moment - moments[start]).total_seconds() > days * DAY:
            start += 1
        best = max(best, end - start + 1)
    return best


def _ages_and_creation(first: dict[str, tuple[Author, datetime]]) -> tuple[list[float], list[datetime]]:
    """Each account's age in days when it first posted, and its creation time (accounts that report one)."""
    known = [(author.created_at, posted) for author, posted in first.values() if author.created_at is not None]
    return [max(0.0, (posted - created).total_seconds() / DAY) for created, posted in known], [c for c, _ in known]


def creation_times(posts: Sequence[Post]) -> tuple[list[float], list[datetime]]:
    """Each author's age in days at their first post, and their creation time (authors that report one), without
    the rest of `account_signals`: kinship asks it of every group a poll touches."""
    return _ages_and_creation(_first_posts(posts))


def account_signals(posts: Sequence[Post], new_account_days: float, low_followers: int,
                    population: Population | None = None) -> AccountSignals:
    """Summarise the authors of `posts`: age at posting time, creation bunching (against `population`, the
    creation times of the accounts active, when given), thin profiles."""
    first = _first_posts(posts)
    ages, created = _ages_and_creation(first)
    avatars = [author.default_avatar for author, _ in first.values() if author.default_avatar is not None]
    followers = [author.followers_count for author, _ in first.values() if author.followers_count is not None]
    median_age = median(ages) if ages else None
    return AccountSignals(
        accounts=len(first),
        newness=sum(map(newness, ages)) / len(ages) if ages else 0.0,
        new_fraction=sum(age <= new_account_days for age in ages) / len(ages) if ages else 0.0,
        median_age_days=median_age,
        batch=creation_batch(created, median_age or 0.0),
        cohort=cohort([moment.timestamp() for moment in created], population) if population is not None else None,
        default_avatar_fraction=sum(avatars) / len(avatars) if avatars else 0.0,
        low_followers_fraction=sum(count <= low_followers for count in followers) / len(followers) if followers
        else 0.0,
        median_followers=median(followers) if followers else None,
    )
