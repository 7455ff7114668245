"""Measure detection against labelled accounts: precision, recall, campaigns caught, organic groups flagged.

    python bot.py eval POSTS --labels labels.csv
"""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from detectors import DetectionSettings, detect
from domain.models import Cluster, Post

CAUGHT_SHARE = 0.8
"""A campaign counts as caught when at least this share of its accounts is flagged."""
COORDINATED = {"coordinated", "polluter"}


@dataclass(frozen=True, slots=True)
class Label:
    """One account's truth: coordinated or not, and the campaign or hard-negative group it is in."""

    coordinated: bool
    campaign: str


@dataclass(slots=True)
class Evaluation:
    """Account-level and campaign-level results of one detection run."""

    flagged: int
    true_positives: int
    coordinated: int
    clusters: int
    organic_flagged: int
    seconds: float
    campaigns: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """campaign -> (accounts, flagged accounts, clusters holding them)"""
    hard_negatives: dict[str, tuple[int, int]] = field(default_factory=dict)
    """hard-negative group -> (accounts, flagged accounts)"""

    @property
    def precision(self) -> float:
        """Share of flagged accounts that are coordinated."""
        return self.true_positives / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        """Share of coordinated accounts that are flagged."""
        return self.true_positives / self.coordinated if self.coordinated else 1.0


def read_labels(path: Path) -> dict[str, Label]:
    """`account_id,label,campaign` rows; `polluter`/`coordinated` count as coordinated."""
    with path.open(newline="") as stream:
        return {row["account_id"]: Label(row["label"] in COORDINATED, row.get("campaign") or "")
                for row in csv.DictReader(stream)}


def kind_of(campaign: str) -> str:
    """The kind a campaign or hard-negative name belongs to ('edited-3' -> 'edited')."""
    return campaign.rsplit("-", 1)[0] if not campaign.startswith("hard:") else campaign


def score_clusters(clusters: Sequence[Cluster], labels: dict[str, Label], seconds: float = 0.0) -> Evaluation:
    """Compare flagged accounts with the labels."""
    cluster_of = {account: index for index, cluster in enumerate(clusters) for account in cluster.accounts}
    members: dict[str, list[str]] = defaultdict(list)
    for account, label in labels.items():
        if label.campaign:
            members[label.campaign].append(account)
    result = Evaluation(
        flagged=len(cluster_of),
        true_positives=sum(labels[a].coordinated for a in cluster_of if a in labels),
        coordinated=sum(label.coordinated for label in labels.values()),
        clusters=len(clusters),
        organic_flagged=sum(not labels[a].coordinated for a in cluster_of if a in labels),
        seconds=seconds,
    )
    for campaign, accounts in members.items():
        flagged = [a for a in accounts if a in cluster_of]
        if campaign.startswith("hard:"):
            result.hard_negatives[campaign] = (len(accounts), len(flagged))
        else:
            result.campaigns[campaign] = (len(accounts), len(flagged), len({cluster_of[a] for a in flagged}))
    return result


def evaluate(
    posts: Sequence[Post], labels: dict[str, Label], settings: DetectionSettings | None = None
) -> Evaluation:
    """Run detection on `posts` and score it against `labels`."""
    started = time.perf_counter()
    clusters = detect(posts, settings)
    return score_clusters(clusters, labels, time.perf_counter() - started)


def format_report(result: Evaluation) -> str:
    """A plain-text summary, overall first, then per campaign kind and per hard-negative group."""
    caught = {c: v for c, v in result.campaigns.items() if v[1] >= CAUGHT_SHARE * v[0]}
    lines = [
        f"accounts flagged: {result.flagged} in {result.clusters} clusters ({result.seconds:.1f} s)",
        f"account precision: {result.precision:.3f}  recall: {result.recall:.3f}",
        f"organic accounts flagged: {result.organic_flagged}",
    ]
    if result.campaigns:
        per_caught = sum(v[2] for v in caught.values()) / len(caught) if caught else 0.0
        lines.append(f"campaigns caught: {len(caught)}/{len(result.campaigns)}  "
                     f"clusters per caught campaign: {per_caught:.2f}")
        kinds: dict[str, Counter[str]] = defaultdict(Counter)
        for campaign, (_, _, clusters) in result.campaigns.items():
            tally = kinds[kind_of(campaign)]
            tally["total"] += 1
            tally["caught"] += campaign in caught
            tally["clusters"] += clusters if campaign in caught else 0
        for kind, tally in sorted(kinds.items()):
            lines.append(f"  {kind:<12} caught {tally['caught']}/{tally['total']}"
                         f"  clusters/caught {tally['clusters'] / max(1, tally['caught']):.2f}")
    if result.hard_negatives:
        groups: dict[str, Counter[str]] = defaultdict(Counter)
        for group, (accounts, flagged) in result.hard_negatives.items():
            groups[group].update(accounts=accounts, flagged=flagged)
        lines.append("hard negatives (organic groups that must stay quiet):")
        lines.extend(f"  {group:<20} flagged {tally['flagged']}/{tally['accounts']} accounts"
                     for group, tally in sorted(groups.items()))
    return "\n".join(lines)
