"""Fuse a group's evidence into one 0-1 score and the plain-language reasons behind it.

Shared content only makes a group a candidate: people share headlines, quotes and memes. The
score is led by behaviour inside the group, which holds for accounts of any age: how many
accounts posted its messages more than once (several distinct messages each, or one again within
hours), and how tightly in time against how shared content spreads organically. Account facts
(newness graded from days to years, creation in one batch or in one season few of the accounts
active were made in, thin profiles) raise the score but never gate it. The pieces are fused as a
noisy-OR: each can carry a group only when strong, and together they add up. Account facts count
as far as the accounts acted together: posting within one detection window, or created in one
batch; new accounts saying "hi all" months apart are not a campaign.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from detectors.accounts import AccountSignals
from detectors.behaviour import Behaviour
from detectors.evasion import disguise_evidence
from domain.models import Post

HOUR = 3600.0

EVIDENCE_WEIGHTS = {"behaviour": 0.92, "disguise": 0.85, "created_together": 0.85, "newness": 0.6,
                    "thin_profiles": 0.3, "timing": 0.4}
"""How far each piece of evidence at full strength goes toward certainty: behaviour, disguised copies and a
creation batch can carry a group alone; newness, thin profiles and timing stay under 0.5 alone and add up."""
REPEATERS_SCALE = 4.0
"""Accounts posting more than once give behaviour evidence 1 - exp(-(n - 1) / this): 3 of them 0.39, 5 0.63,
10 0.89. A few old accounts sharing two links in a day is coincidence far more often than ten are."""
REPEAT_SHARE = (0.3, 0.8)
"""Below the first share of repeaters a group behaves like organic sharing, from the second fully like a campaign."""
TIMING_SCALE = 5.0
"""Timing evidence grows with the accounts in the tight span: 1 - exp(-n / this)."""
TEMPLATE_DISCOUNT = 0.5
"""Repetition of an app's template (texts differing only in numbers) counts half: the app repeats, not a campaign."""
STEADY_HOURS = (12.0, 36.0)
"""Repeat posting over a core span up to the first counts fully; by the second it counts half: accounts
repeating a template all day long (app posts, weather bots, fans) are less likely one campaign's."""


@dataclass(frozen=True, slots=True)
class Scored:
    """A group's score, named signal values, and reasons in the order moderators read them."""

    score: float
    signals: dict[str, float]
    reasons: list[str]


def human_span(seconds: float) -> str:
    """Render a duration the way a moderator says it: '40 min', '6 h', '3 days'."""
    if seconds < HOUR:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 48 * HOUR:
        return f"{round(seconds / HOUR)} h"
    return f"{round(seconds / (24 * HOUR))} days"


def human_age(days: float) -> str:
    """An account age as a moderator says it: '5 days', '3 months', '4 years'."""
    if days < 60:
        return f"{max(1, round(days))} day{'s' if round(days) != 1 else ''}"
    if days < 730:
        return f"{round(days / 30.4)} months"
    return f"{round(days / 365.25)} years"


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _what_was_posted(posts: int, distinct_texts: int, pictured: int, shared_media: int) -> str:
    """What a group's posts have in common, in words: the same text, near-copies of it, or a picture under texts
    that mostly differ (a campaign captioning one image with other people's words is no near-identical text)."""
    texts = f"{distinct_texts} distinct text{'s' if distinct_texts != 1 else ''}"
    if shared_media and distinct_texts > 1 and 2 * pictured >= posts and 2 * distinct_texts >= posts:
        return f"posts with the same picture{'s' if shared_media > 1 else ''} ({texts})"
    return f"{'identical' if distinct_texts <= 1 else 'near-identical'} posts ({texts})"


def score_group(
    posts: Sequence[Post], accounts: AccountSignals, acting: Behaviour, *, messages: int, distinct_texts: int,
    concentrated: float, shared_media: int, disguised: int, templated: bool = False, repeated: int | None = None,
    packaged: int = 0, pictured: int = 0,
) -> Scored:
    """Score one group from behaviour, timing and account facts; say why in plain words.

    `messages` counts the distinct message groups merged into this one (co-posting);
    `concentrated` is the share of accounts that posted within one detection window; `disguised` counts
    the distinct disguised spellings among the posts (see `evasion`): re-shares of one text that its author
    wrote with a full-width letter are one spelling, the author's, while copies disguised to slip past
    matching each vary; `templated` says its texts are variants of an app's
    template (see `templates`), whose repetition counts for less; `packaged` counts the accounts that posted
    a shared picture with the same words as another account, which counts as acting together like repeating
    (`acting.repeaters` holds both; `repeated` those that repeated, for the reasons); `pictured` counts the posts
    with a picture (re-encoded copies of the shared one are pictures no other post has exactly).
    """
    repeated = acting.repeaters if repeated is None else repeated
    n = accounts.accounts
    span = (max(p.created_at for p in posts) - min(p.created_at for p in posts)).total_seconds()
    thin = (accounts.default_avatar_fraction + accounts.low_followers_fraction) / 2
    signals = {
        "repeat_share": acting.repeat_share,
        "behaviour": (1 - math.exp(-max(0, acting.repeaters - 1) / REPEATERS_SCALE))
        * _ramp(acting.repeat_share, *REPEAT_SHARE)
        * (1 - 0.5 * _ramp(math.log(max(acting.core_seconds, 1) / HOUR), *map(math.log, STEADY_HOURS)))
        * (TEMPLATE_DISCOUNT if templated else 1.0),
        "disguise": disguise_evidence(disguised, len(posts)),
        "timing": acting.tightness * (1 - math.exp(-n / TIMING_SCALE)),
        "created_together": max(accounts.batch.evidence if accounts.batch else 0.0,
                                accounts.cohort.evidence if accounts.cohort else 0.0),
        "newness": accounts.newness * max(concentrated, accounts.batch.evidence if accounts.batch else 0.0),
        "thin_profiles": thin * concentrated,
        "concentrated": concentrated,
    }
    doubt = 1.0
    for name, weight in EVIDENCE_WEIGHTS.items():
        doubt *= 1.0 - weight * signals[name]
    posted = _what_was_posted(len(posts), distinct_texts, pictured, shared_media)
    reasons = [f"{n} accounts posted {len(posts)} {posted} within {human_span(span)}"]
    if repeated >= 2:
        reasons.append(f"{repeated} of the {n} accounts posted "
                       f"{'several of these messages' if messages > 1 or distinct_texts > 1 else 'it repeatedly'}"
                       f" ({acting.posts_per_account:.1f} posts per account)")
    if packaged >= 2:
        reasons.append(f"{packaged} of the {n} accounts posted the same picture with the same words")
    if messages > 1 and repeated:
        reasons.append(f"the same accounts co-posted {messages} different messages")
    elif messages > 1:  # joined by kinship: each account posted one of them
        reasons.append(f"{messages} different messages, each account posting one, from accounts created in the "
                       "same span and posting in the same hours")
    if templated:
        reasons.append("the texts are one template with the numbers changed, as apps post them")
    if signals["disguise"] >= 0.2:
        reasons.append(f"{disguised} posts disguise the text, each spelled differently "
                       f"(look-alike letters, invisible characters, spaced-out letters)")
    if acting.tightness >= 0.3 and len(posts) >= 3:
        reasons.append(f"80% of the posts came within {human_span(acting.core_seconds)}")
    if shared_media:
        plural = "s" if shared_media > 1 else ""
        reasons.append(f"{shared_media} shared image{plural} (same or near-same picture)")
    if accounts.median_age_days is not None and accounts.newness >= 0.2:
        reasons.append(f"the accounts were young when they posted: median age {human_age(accounts.median_age_days)}"
                       + (f", {accounts.new_fraction:.0%} under a month" if accounts.new_fraction >= 0.1 else ""))
    if accounts.batch and accounts.batch.evidence >= 0.2:
        reasons.append(f"{accounts.batch.accounts} accounts were created within "
                       f"{human_span(accounts.batch.span_days * 86400)} of each other")
    cohort = accounts.cohort
    if cohort and cohort.evidence >= 0.2 and not (accounts.batch and accounts.batch.evidence >= 0.2):
        reasons.append(f"{cohort.accounts} accounts were created within "
                       f"{human_span(cohort.created_until - cohort.created_from)} of each other, a span in which "
                       f"only {cohort.share:.1%} of the accounts posting were created")
    if accounts.default_avatar_fraction >= 0.5:
        reasons.append(f"{accounts.default_avatar_fraction:.0%} use the default avatar")
    if accounts.low_followers_fraction >= 0.5 and accounts.median_followers is not None:
        reasons.append(f"{accounts.low_followers_fraction:.0%} have few followers "
                       f"(median {accounts.median_followers:.0f})")
    return Scored(round(1.0 - doubt, 3), signals, reasons)
