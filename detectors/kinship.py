"""Kinship: message groups whose accounts were created in one batch, posting in the same hours, are one campaign.

A campaign that gives each account one message of a pool leaves no account behind two messages,
so co-posting cannot join its messages. What joins them is where the accounts came from: the
accounts behind each message were created in one tight batch (`accounts.creation_batch`). Two
groups are kin when their creation batches and their posting hours both coincide: each pair
overlaps by at least half of the two together. Coinciding, not merely touching: a batch made in
one hour that falls inside another group's three weeks is another batch (it joined campaigns a
few months old that ran side by side). And only where few of the active accounts were made in
those spans. Only groups with no poster in common take part: where posters are shared,
co-posting alone judges, so a copied text's organic author is not pulled in through the campaign
accounts that copied it.

Tried and dropped, on generated data:
- Young accounts of one age posting in the same burst: cards per campaign 1.24 -> 1.22, but
  twice the cards that merged two unrelated campaigns (14 to 27 in five seeds).
- Disguised copies as a trait: evasive campaigns running over the same hours are common, and
  linking them merged unrelated campaigns into one card.
- Creation cohorts (`cohort`, evidence 0.5 or more) as a second source. On the randomised
  generator it helped (tuning seeds 1.42 -> 1.36 cards per caught campaign, fresh seeds 146-150
  1.38 -> 1.33), but it chains: where campaigns of new accounts start every few minutes all day,
  each coincides with the next, and the load benchmark's day (200 campaigns of accounts 1-20 days
  old among 1M posts) went from 209 cards to 39, up to 509 accounts from a score of campaigns in
  one card. Requiring the spans to hold few active accounts (RARE_SPAN) stopped it only where new
  accounts were over 1 in 25 of those active; a group joining a kin only where it coincides with
  half its members, or with the kin's hours as a whole, kept one campaign's groups apart too
  (1.40-1.41 cards).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from statistics import median
from typing import TypeVar

from detectors.accounts import creation_batch, creation_times
from detectors.cohort import SHARE, Population
from domain.models import Post

MIN_BATCH = 0.2
"""A group takes part when its creation-batch evidence (`accounts.CreationBatch.evidence`) is at least this."""
POSTING_CORE = 0.8
"""A group's posting hours are those of the middle 80 % of its posts: an organic post a campaign copied, made
hours before, does not stretch them."""
COINCIDE = 0.5
"""Two spans coincide when they overlap by at least this share of the span they cover together."""
RARE_SPAN = SHARE[1]
"""Coinciding spans say "one source" only where few accounts were made: at most this share of the active
accounts was created within the two groups' creation spans together (`cohort.SHARE`'s full density). Where
new accounts pour in, two groups of them posting in the same hour are common."""
HOUR = 3600.0
"""Spans are widened to at least an hour: accounts created at one moment, or posts sent in one minute."""
Span = tuple[float, float]
Group = TypeVar("Group", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Traits:
    """When a group posted and when its accounts were created (epoch seconds, each at least an hour wide), and
    who they are."""

    posted: Span
    accounts: frozenset[str]
    created: Span


def _widened(start: float, end: float) -> Span:
    """The span, widened about its middle to an hour if narrower."""
    if end - start >= HOUR:
        return start, end
    middle = (start + end) / 2
    return middle - HOUR / 2, middle + HOUR / 2


def traits(posts: Sequence[Post]) -> Traits | None:
    """A group's kinship traits, None when its accounts were not created in one tight batch."""
    ages, moments = creation_times(posts)
    batch = creation_batch(moments, median(ages) if ages else 0.0)
    if batch is None or batch.evidence < MIN_BATCH:
        return None
    times = sorted(post.created_at.timestamp() for post in posts)
    outside = (1 - POSTING_CORE) / 2 * (len(times) - 1)
    posted = _widened(times[int(outside)], times[round(len(times) - 1 - outside)])
    created = _widened(batch.created_from.timestamp(), batch.created_until.timestamp())
    return Traits(posted, frozenset(post.author.id for post in posts), created)


def _coincide(a: Span, b: Span) -> bool:
    """Whether the spans overlap by at least COINCIDE of the span they cover together."""
    return min(a[1], b[1]) - max(a[0], b[0]) >= COINCIDE * (max(a[1], b[1]) - min(a[0], b[0]))


def kin_links(traits_of: dict[Group, Traits], population: Population) -> Iterator[tuple[Group, Group]]:
    """Pairs of groups with no poster in common whose creation spans and posting hours coincide, where the
    creation spans together hold at most RARE_SPAN of the active accounts (`population`).

    Sorted by posting start, each is compared only with those starting in the first (1 - COINCIDE) of its
    posting hours: one starting later shares less than COINCIDE of the span the two cover together.
    """
    ordered = sorted(traits_of.items(), key=lambda item: item[1].posted)
    for at, (group, trait) in enumerate(ordered):
        (start, end), created = trait.posted, trait.created
        last_start = start + (1 - COINCIDE) * (end - start)
        for other, later in ordered[at + 1:]:
            if later.posted[0] > last_start:
                break
            if (_coincide(trait.posted, later.posted) and _coincide(created, later.created)
                    and trait.accounts.isdisjoint(later.accounts)  # else co-posting alone judges
                    and population.share_within(min(created[0], later.created[0]),
                                                max(created[1], later.created[1])) <= RARE_SPAN):
                yield group, other
