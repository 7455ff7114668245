"""A digest as plain text: what the console prints, and what the Slack digest message quotes."""

from __future__ import annotations

from datetime import datetime

from detectors.scoring import human_span
from domain.views import Digest


def utc_time(moment: datetime) -> str:
    """A moment as `2026-02-20 06:00 UTC`, the way console output writes times."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """A one-line chart of counts, for the console digest."""
    top = max(values, default=0)
    return "".join(SPARK[round(value * (len(SPARK) - 1) / top)] for value in values) if top else ""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _change(now: int, before: int) -> str:
    if now == before:
        return "same as the period before"
    return f"{'up' if now > before else 'down'} from {before} the period before"


def _minutes(value: float) -> str:
    return human_span(value * 60)


def render_digest(digest: Digest) -> str:
    """A digest as text, with a sparkline where Slack gets a chart."""
    decided = sum(digest.decisions_by_action.values())
    lines = [
        f"Chorus digest · {utc_time(digest.since)} → {utc_time(digest.until)}",
        f"  Flagged: {_plural(digest.clusters_flagged, 'cluster')} "
        f"({_change(digest.clusters_flagged, digest.previous_clusters)}), "
        f"{_plural(digest.accounts_flagged, 'account')} ({_change(digest.accounts_flagged, digest.previous_accounts)}),"
        f" {_plural(digest.posts_flagged, 'post')}",
        f"  Per {'hour' if digest.bucket_hours == 1 else 'day'}: "
        f"{sparkline([clusters for _, clusters, _ in digest.timeline]) or 'nothing flagged'}",
    ]
    if decided:
        share = f" (dismissed {digest.dismissed_share:.0%})" if digest.dismissed_share is not None else ""
        lines.append("  Decisions: " + ", ".join(f"{a} {n}" for a, n in digest.decisions_by_action.items()) + share
                     + " · by " + ", ".join(f"@{m} {n}" for m, n in digest.decisions_by_moderator.items()))
    else:
        lines.append("  Decisions: none")
    limited = f"{digest.accounts_limited} limited, " if digest.accounts_limited else ""  # not every platform limits
    lines.append(f"  Carried out: {_plural(digest.accounts_suspended, 'account')} suspended, {limited}"
                 f"{digest.accounts_verification} sent to verification, "
                 f"{_plural(digest.failed_actions, 'platform action')} failed")
    if digest.decision_minutes_p50 is not None and digest.decision_minutes_p90 is not None:
        lines.append(f"  Time from flag to decision: median {_minutes(digest.decision_minutes_p50)}, "
                     f"90th percentile {_minutes(digest.decision_minutes_p90)}")
    lines.append(f"  Waiting for a decision: {_plural(len(digest.pending), 'cluster')}"
                 + (", oldest first" if digest.pending else ""))
    for pending in digest.pending[:5]:
        lines.append(f"    {pending.id}  {pending.accounts} accounts, flagged {utc_time(pending.flagged_at)}")
    if len(digest.pending) > 5:
        lines.append(f"    and {len(digest.pending) - 5} more")
    if digest.unclaimed:
        lines.append(f"  Nobody has claimed for over {digest.unclaimed_hours:g} h: "
                     f"{_plural(len(digest.unclaimed), 'cluster')}, oldest first")
        lines += [f"    {pending.id}  {pending.accounts} accounts, flagged {utc_time(pending.flagged_at)}"
                  for pending in digest.unclaimed[:5]]
        if len(digest.unclaimed) > 5:
            lines.append(f"    and {len(digest.unclaimed) - 5} more")
    if digest.largest:
        lines.append("  Largest campaigns:")
        for cluster_id, accounts, sample in digest.largest:
            lines.append(f"    {cluster_id}  {accounts} accounts  “{' '.join(sample.split())[:50]}”")
    return "\n".join(lines)
