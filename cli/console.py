"""Console mode: cluster cards and digests rendered as text, for running without a Slack workspace."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

from detectors.scoring import human_span
from domain.decisions import ACCOUNT_ACTIONS, Action
from domain.views import WHOLE_CLUSTER_LABELS, AccountView, ClusterChange, ClusterView, Digest, LateBatch, mention
from service.digest_text import render_digest, utc_time

WIDTH = 78
SHOWN_ACCOUNTS = 6


def _age(account: AccountView) -> str:
    if account.age_days_at_post is None:
        return "age unknown"
    return f"{account.age_days_at_post:.0f} d old"


def _wrap(text: str, indent: str = "│   ") -> list[str]:
    return textwrap.wrap(text, WIDTH - len(indent), initial_indent=indent, subsequent_indent=indent) or [indent]


def render_card(view: ClusterView, actions: Sequence[Action] = ACCOUNT_ACTIONS) -> str:
    """A cluster card as text: severity, score, accounts, sample, reasons, and the buttons offered (`actions` on
    every account, then Dismiss and Review)."""
    title = f"╭─ {view.severity.upper()} · score {view.score:.2f} · cluster {view.id} "
    lines = [title + "─" * max(0, WIDTH - len(title))]
    span = human_span((view.last_seen - view.first_seen).total_seconds())
    lines += _wrap(
        f"{len(view.accounts)} accounts · {view.post_count} posts · {view.distinct_texts} distinct "
        f"message{'s' if view.distinct_texts != 1 else ''} · over {span} "
        f"({utc_time(view.first_seen)} → {utc_time(view.last_seen)})", "│ "
    )
    shown = ", ".join(f"{mention(a.handle)} ({_age(a)})" for a in view.accounts[:SHOWN_ACCOUNTS])
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
        labels = [WHOLE_CLUSTER_LABELS[action] for action in actions] + ["Dismiss", "Review accounts"]
        lines.append("│ " + "  ".join(f"[ {label} ]" for label in labels))
    lines.append("╰" + "─" * (WIDTH - 1))
    return "\n".join(lines)


def render_growth(view: ClusterView, change: ClusterChange) -> str:
    """The thread reply for a grown cluster: who joined."""
    handles = {a.id: a.handle for a in view.accounts}
    joined = ", ".join(mention(handles.get(a, a)) for a in change.added_accounts[:SHOWN_ACCOUNTS])
    more = len(change.added_accounts) - SHOWN_ACCOUNTS
    return (f"↳ cluster {view.id} grew: +{len(change.added_accounts)} accounts, +{change.added_posts} posts"
            + (f" ({joined}{f', and {more} more' if more > 0 else ''})" if joined else ""))


class ConsoleNotifier:
    """Prints cards and digests to a stream (stdout by default); cards show buttons for `actions` (as configured)."""

    def __init__(self, stream: TextIO | None = None, actions: Sequence[Action] = ACCOUNT_ACTIONS) -> None:
        self.stream = stream or sys.stdout
        self.actions = tuple(actions)

    def publish(self, view: ClusterView, change: ClusterChange) -> tuple[str | None, str | None]:
        """Print a new card, or the growth note and the updated card."""
        if change.kind == "grown":
            print(render_growth(view, change), file=self.stream)
        print(render_card(view, self.actions), file=self.stream, flush=True)
        return None, None

    def publish_batch(self, view: ClusterView, batch: LateBatch) -> tuple[str | None, str | None]:
        """Print a batch of accounts outside the cluster's decision and why each is there."""
        handles = {a.id: a.handle for a in view.accounts}
        named = [mention(member.handle) + (f" ({member.note})" if member.note else "") if member else
                 mention(handles.get(account, account))
                 for account in batch.accounts[:SHOWN_ACCOUNTS] for member in [batch.members.get(account)]]
        more = len(batch.accounts) - SHOWN_ACCOUNTS
        print(f"↳ cluster {view.id}, {batch.kind.replace('_', ' ')}: {', '.join(named)}"
              + (f", and {more} more" if more > 0 else ""), file=self.stream, flush=True)
        return None, None

    def digest_chart(self, digest: Digest) -> None:
        """No chart on a terminal: the digest text has a sparkline."""

    def digest(self, digest: Digest, chart: str | None = None) -> None:
        """Print the digest."""
        print(render_digest(digest), file=self.stream, flush=True)

    def notice(self, text: str) -> None:
        """Print a platform notice."""
        print(f"⚠ {text}", file=self.stream, flush=True)
