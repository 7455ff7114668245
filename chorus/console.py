"""Console mode: cluster cards and digests rendered as text, for running without a Slack workspace."""

from __future__ import annotations

import sys
import textwrap
from datetime import datetime
from typing import TextIO

from chorus.views import AccountView, ClusterChange, ClusterView, Digest
from detectors.scoring import human_span

WIDTH = 78
BUTTONS = "[ Suspend all ]  [ Require verification ]  [ Dismiss ]  [ Review accounts ]"
SHOWN_ACCOUNTS = 6


def _age(account: AccountView) -> str:
    if account.age_days_at_post is None:
        return "age unknown"
    return f"{account.age_days_at_post:.0f} d old"


def _wrap(text: str, indent: str = "│   ") -> list[str]:
    return textwrap.wrap(text, WIDTH - len(indent), initial_indent=indent, subsequent_indent=indent) or [indent]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render_card(view: ClusterView) -> str:
    """A cluster card as text: severity, score, accounts, sample, reasons, and the buttons offered."""
    title = f"╭─ {view.severity.upper()} · score {view.score:.2f} · cluster {view.id} "
    lines = [title + "─" * max(0, WIDTH - len(title))]
    span = human_span((view.last_seen - view.first_seen).total_seconds())
    lines += _wrap(
        f"{len(view.accounts)} accounts · {view.post_count} posts · {view.distinct_texts} distinct "
        f"message{'s' if view.distinct_texts != 1 else ''} · over {span} "
        f"({_time(view.first_seen)} → {_time(view.last_seen)})", "│ "
    )
    shown = ", ".join(f"@{a.handle} ({_age(a)})" for a in view.accounts[:SHOWN_ACCOUNTS])
    more = len(view.accounts) - SHOWN_ACCOUNTS
    lines += _wrap(f"Accounts: {shown}" + (f", and {more} more" if more > 0 else ""), "│ ")
    for sample in view.sample_texts[:2]:
        lines += _wrap(f"“{' '.join(sample.split())[:280]}”", "│   ")
    if view.media:
        lines += _wrap(f"Shared media: {', '.join(sha[:12] for sha in view.media[:3])}", "│ ")
    lines.append("│ Why:")
    for reason in view.reasons:
        lines += textwrap.wrap(reason, WIDTH - 6, initial_indent="│  • ", subsequent_indent="│    ")
    if view.decisions:
        for decision in view.decisions:
            lines.append(f"│ ✔ {decision.action} {len(decision.accounts)} accounts — @{decision.moderator}, "
                         f"{decision.created_at:%H:%M} ({decision.status})")
    else:
        lines.append("│ " + BUTTONS)
    lines.append("╰" + "─" * (WIDTH - 1))
    return "\n".join(lines)


def render_growth(view: ClusterView, change: ClusterChange) -> str:
    """The thread reply for a grown cluster: who joined."""
    handles = {a.id: a.handle for a in view.accounts}
    joined = ", ".join(f"@{handles.get(a, a)}" for a in change.added_accounts[:SHOWN_ACCOUNTS])
    more = len(change.added_accounts) - SHOWN_ACCOUNTS
    return (f"↳ cluster {view.id} grew: +{len(change.added_accounts)} accounts, +{change.added_posts} posts"
            + (f" ({joined}{f', and {more} more' if more > 0 else ''})" if joined else ""))


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
        f"Chorus digest · {_time(digest.since)} → {_time(digest.until)}",
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
    lines.append(f"  Carried out: {_plural(digest.accounts_suspended, 'account')} suspended, "
                 f"{digest.accounts_verification} sent to verification, "
                 f"{_plural(digest.failed_actions, 'platform action')} failed")
    if digest.decision_minutes_p50 is not None and digest.decision_minutes_p90 is not None:
        lines.append(f"  Time from flag to decision: median {_minutes(digest.decision_minutes_p50)}, "
                     f"90th percentile {_minutes(digest.decision_minutes_p90)}")
    lines.append(f"  Waiting for a decision: {_plural(len(digest.pending), 'cluster')}"
                 + (", oldest first" if digest.pending else ""))
    for pending in digest.pending[:5]:
        lines.append(f"    {pending.id}  {pending.accounts} accounts, flagged {_time(pending.flagged_at)}")
    if len(digest.pending) > 5:
        lines.append(f"    and {len(digest.pending) - 5} more")
    if digest.largest:
        lines.append("  Largest campaigns:")
        for cluster_id, accounts, sample in digest.largest:
            lines.append(f"    {cluster_id}  {accounts} accounts  “{' '.join(sample.split())[:50]}”")
    return "\n".join(lines)


class ConsoleNotifier:
    """Prints cards and digests to a stream (stdout by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def publish(self, view: ClusterView, change: ClusterChange) -> tuple[str | None, str | None]:
        """Print a new card, or the growth note and the updated card."""
        if change.kind == "grown":
            print(render_growth(view, change), file=self.stream)
        print(render_card(view), file=self.stream, flush=True)
        return None, None

    def digest(self, digest: Digest) -> None:
        """Print the digest."""
        print(render_digest(digest), file=self.stream, flush=True)

    def notice(self, text: str) -> None:
        """Print a platform notice."""
        print(f"⚠ {text}", file=self.stream, flush=True)
