"""Fuse a group's signals into one 0-1 score and the plain-language reasons behind it.

Shared text alone cannot separate a campaign from a headline everyone shares, so content only
makes a group a candidate; the score comes from evidence about the accounts (new when they
posted, created together, thin profiles), repeated co-posting, and timing, fused as a noisy-OR:
each piece of evidence can carry a group on its own only when it is strong. Newness counts only
as far as the accounts acted together, shown by posting within one detection window of each other
or by being created in one batch: new accounts saying "hi all" months apart are not acting
together, a batch of accounts created in the same days and each posting the message in its first
weeks is. Thin profiles count only for accounts active in one window. Co-posting by fewer
accounts than a small campaign (SMALL_GROUP) counts for less: three accounts sharing a few
messages is a coincidence far more often than ten are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detectors.accounts import AccountSignals
from domain.models import Post

HOUR = 3600.0

EVIDENCE_WEIGHTS = {"accounts": 0.9, "coposting": 0.85, "burst": 0.25}
"""How far each signal at full strength goes toward certainty; timing alone never passes 0.5."""
ACCOUNT_PARTS = {"new_accounts": 0.5, "bunched_creation": 0.3, "thin_profiles": 0.2}
SMALL_GROUP = 5
"""Accounts of the smallest campaigns worth a card; co-posting by fewer is discounted."""


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


def score_group(
    posts: Sequence[Post], accounts: AccountSignals, *, messages: int, distinct_texts: int,
    similarity: str, window_seconds: float, new_account_days: float, bunch_days: float, shared_media: int,
) -> Scored:
    """Score one group from its accounts, co-posted messages and timing; say why in plain words."""
    n = accounts.accounts
    span = (max(p.created_at for p in posts) - min(p.created_at for p in posts)).total_seconds()
    thin = (accounts.default_avatar_fraction + accounts.low_followers_fraction) / 2
    signals = {
        "new_accounts": accounts.new_fraction,
        "bunched_creation": accounts.bunched / n if n else 0.0,
        "thin_profiles": thin,
        "coposting": min(1.0, (messages - 1) / 2) * min(1.0, (n - 1) / (SMALL_GROUP - 1)),
        "burst": max(0.0, 1.0 - span / window_seconds) if window_seconds else 0.0,
    }
    signals["concentrated"] = accounts.concentrated
    together = {"new_accounts": max(accounts.concentrated, signals["bunched_creation"]),
                "bunched_creation": 1.0, "thin_profiles": accounts.concentrated}
    signals["accounts"] = sum(weight * signals[name] * together[name] for name, weight in ACCOUNT_PARTS.items())
    doubt = 1.0
    for name, weight in EVIDENCE_WEIGHTS.items():
        doubt *= 1.0 - weight * signals[name]
    reasons = [f"{n} accounts posted {len(posts)} {similarity} posts ({distinct_texts} distinct "
               f"text{'s' if distinct_texts != 1 else ''}) within {human_span(span)}"]
    if messages > 1:
        reasons.append(f"the same accounts repeatedly co-posted {messages} different messages")
    if shared_media:
        plural = "s" if shared_media > 1 else ""
        reasons.append(f"{shared_media} shared image{plural} (same or near-same picture)")
    if accounts.new_fraction > 0 and accounts.median_age_days is not None:
        reasons.append(
            f"{accounts.new_fraction:.0%} of accounts were under {new_account_days:g} days old when "
            f"they posted (median age {accounts.median_age_days:.0f} days)"
        )
    if accounts.bunched >= 3:
        reasons.append(f"{accounts.bunched} accounts were created within {bunch_days:g} days of each other")
    if accounts.default_avatar_fraction >= 0.5:
        reasons.append(f"{accounts.default_avatar_fraction:.0%} use the default avatar")
    if accounts.low_followers_fraction >= 0.5 and accounts.median_followers is not None:
        reasons.append(f"{accounts.low_followers_fraction:.0%} have few followers "
                       f"(median {accounts.median_followers:.0f})")
    return Scored(round(1.0 - doubt, 3), signals, reasons)
