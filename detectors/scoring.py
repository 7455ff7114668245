"""Fuse a group's signals into one 0-1 score and the plain-language reasons behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chorus.models import Post
from detectors.accounts import AccountSignals
from detectors.normalize import normalize_text

HOUR = 3600.0

WEIGHTS = {
    "size": 0.25,
    "new_accounts": 0.25,
    "bunched_creation": 0.15,
    "burst": 0.15,
    "thin_profiles": 0.10,
    "several_messages": 0.10,
}
"""Each signal lies in 0-1; the weights sum to 1. Text overlap alone (size) cannot pass 0.5."""


@dataclass(frozen=True, slots=True)
class Scored:
    """A group's score, named signal values, and reasons in the order moderators read them."""

    score: float
    signals: dict[str, float]
    reasons: list[str]
    distinct_texts: int


def human_span(seconds: float) -> str:
    """Render a duration the way a moderator says it: '40 min', '6 h', '3 days'."""
    if seconds < HOUR:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 48 * HOUR:
        return f"{round(seconds / HOUR)} h"
    return f"{round(seconds / (24 * HOUR))} days"


def score_group(
    posts: Sequence[Post], accounts: AccountSignals, window_seconds: float, new_account_days: float,
    bunch_days: float, shared_media: int,
) -> Scored:
    """Score one group of posts from its size, account age and bunching, timing and profiles."""
    n = accounts.accounts
    texts = {normalize_text(post.text) for post in posts}
    times = [post.created_at for post in posts]
    span = (max(times) - min(times)).total_seconds()
    signals = {
        "size": min(1.0, (n - 2) / 8),
        "new_accounts": accounts.new_fraction,
        "bunched_creation": accounts.bunched / n if n else 0.0,
        "burst": max(0.0, 1.0 - span / window_seconds) if window_seconds else 0.0,
        "thin_profiles": max(accounts.default_avatar_fraction, accounts.low_followers_fraction),
        "several_messages": min(1.0, (len(texts) - 1) / 3) if len(posts) > n else 0.0,
    }
    score = sum(WEIGHTS[name] * value for name, value in signals.items())

    what = "identical text" if len(texts) == 1 else f"{len(texts)} distinct texts"
    reasons = [f"{n} accounts posted {len(posts)} posts with {what} within {human_span(span)}"]
    if shared_media:
        reasons.append(f"{shared_media} shared image{'s' if shared_media > 1 else ''} (same file hash)")
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
        reasons.append(f"median follower count {accounts.median_followers:.0f}")
    return Scored(round(score, 3), signals, reasons, len(texts))
