"""Kinship: message groups whose accounts were created in one batch, posting in the same hours, are one campaign.

A campaign that gives each account one message of a pool leaves no account behind two messages,
so co-posting cannot join its messages. What joins them is where the accounts came from: the
accounts behind each message were created in the same tight batch. Organic groups almost never
show a creation batch at all, and two campaigns' batches coinciding to the hour means one
operator. Only groups whose own accounts form a tight batch take part, and only groups with no
poster in common: where posters are shared, co-posting alone judges, so a copied text's organic
author is not pulled in through the campaign accounts that copied it.

Young accounts of one age posting in the same burst were tried as a second kinship and dropped:
on generated data it cut cards per campaign from 1.24 to 1.22 but doubled the cards that merged
two unrelated campaigns (14 to 27 in five seeds).
Disguised copies were tried as a second trait and dropped: evasive campaigns running over the
same hours are common, and linking them merged unrelated campaigns into one card. So were
creation cohorts (`cohort`) overlapping by half in creation and posting hours: 1.38 -> 1.28 cards
per campaign, but more cards holding two campaigns (14 -> 16) and more look-alike accounts flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MIN_TRAIT = 0.2
"""A group takes part when its creation-batch evidence (`accounts.CreationBatch.evidence`) is at least this."""
TOLERANCE = 0.5
"""Two creation batches belong together when the gap between them is at most this share of the wider one."""
HOUR = 3600.0
Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Traits:
    """When a group posted and when its accounts were created in one tight batch (epoch seconds), and who they are."""

    posted_from: float
    posted_until: float
    accounts: frozenset[str]
    created: Span


def _near(a: Span, b: Span) -> bool:
    """Whether two intervals overlap or lie within TOLERANCE of the wider one's width (at least an hour)."""
    tolerance = max(HOUR, TOLERANCE * max(a[1] - a[0], b[1] - b[0]))
    return max(a[0], b[0]) <= min(a[1], b[1]) + tolerance


def kin_links(traits: dict[int, Traits]) -> Iterator[tuple[int, int]]:
    """Pairs of groups whose creation batches coincide and whose posting spans are near.

    Sorted by posting start, each is compared only with those starting before its end plus the
    widest reach any pair can have.
    """
    ordered = sorted(traits.items(), key=lambda item: item[1].posted_from)
    widest = max((t.posted_until - t.posted_from for t in traits.values()), default=0.0)
    reach = max(HOUR, TOLERANCE * widest)
    for at, (group, trait) in enumerate(ordered):
        for other, later in ordered[at + 1:]:
            if later.posted_from > trait.posted_until + reach:
                break
            if not trait.accounts.isdisjoint(later.accounts):
                continue  # groups with posters in common are judged by co-posting alone
            if (_near(trait.created, later.created)
                    and _near((trait.posted_from, trait.posted_until), (later.posted_from, later.posted_until))):
                yield group, other
