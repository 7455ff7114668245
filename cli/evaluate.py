"""Measure detection against labelled accounts: precision, recall, campaigns caught, look-alikes flagged.

    python bot.py eval POSTS --labels labels.csv

With the generator's `truth.json` beside `labels.csv`, it also prints recall by campaign parameter
bin (size, account age, spread, messages per account, pool, edits, images, creation) and the score
distributions of campaigns and organic look-alike groups side by side.
"""

from __future__ import annotations

import csv
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import quantiles
from typing import Any

import orjson

from detectors import DetectionSettings, detect
from domain.models import Cluster, Post

CAUGHT_SHARE = 0.8
"""A campaign counts as caught when at least this share of its (findable) accounts is flagged."""
COORDINATED = {"coordinated", "polluter"}


@dataclass(frozen=True, slots=True)
class Label:
    """One account's truth: coordinated or not, and the campaign or look-alike group it is in."""

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
    """look-alike group -> (accounts, flagged accounts)"""
    truth: dict[str, Any] | None = None
    """The generator's truth.json, when there is one."""
    findable: dict[str, tuple[int, int]] = field(default_factory=dict)
    """campaign -> (accounts sharing content with two others of it, of those flagged)"""
    campaign_scores: dict[str, float] = field(default_factory=dict)
    """campaign or look-alike group -> score of the cluster holding most of its accounts, at any score"""
    mixed_cards: int = 0
    """Cards holding three or more accounts of each of two or more campaigns: campaigns merged into one."""

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


def read_truth(labels_path: Path) -> dict[str, Any] | None:
    """The generator's `truth.json` beside `labels.csv`, if there is one."""
    path = labels_path.with_name("truth.json")
    return orjson.loads(path.read_bytes()) if path.exists() else None


def kind_of(campaign: str) -> str:
    """The kind a campaign or look-alike name belongs to ('hard:quote-3' and 'hard:7/quote-3' -> 'hard:quote')."""
    kind = campaign.rsplit("-", 1)[0]
    return "hard:" + kind.rpartition("/")[2] if kind.startswith("hard:") else kind


def _holder_scores(clusters: Sequence[Cluster], groups: dict[str, list[str]]) -> dict[str, float]:
    """For each group of accounts, the score of the cluster holding most of them (0 when none does)."""
    holder = {account: cluster for cluster in clusters for account in cluster.accounts}
    scores = {}
    for name, accounts in groups.items():
        held = Counter(id(holder[a]) for a in accounts if a in holder)
        best = held.most_common(1)
        scores[name] = next(c.score for c in clusters if id(c) == best[0][0]) if best else 0.0
    return scores


def score_clusters(clusters: Sequence[Cluster], labels: dict[str, Label], seconds: float = 0.0,
                   truth: dict[str, Any] | None = None) -> Evaluation:
    """Compare flagged accounts with the labels (and, given, the generator's truth)."""
    cluster_of = {account: index for index, cluster in enumerate(clusters) for account in cluster.accounts}
    members: dict[str, list[str]] = defaultdict(list)
    if truth:
        for name, campaign in truth["campaigns"].items():
            members[name] = campaign["members"]
        for name, group in truth["lookalikes"].items():
            members[name] = group["members"]
    else:
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
        truth=truth,
    )
    for campaign, accounts in members.items():
        flagged = [a for a in accounts if a in cluster_of]
        if campaign.startswith("hard:"):
            result.hard_negatives[campaign] = (len(accounts), len(flagged))
        else:
            result.campaigns[campaign] = (len(accounts), len(flagged), len({cluster_of[a] for a in flagged}))
    if truth:
        for name, campaign in truth["campaigns"].items():
            findable = campaign["detectable"]
            result.findable[name] = (len(findable), sum(a in cluster_of for a in findable))
        campaign_of = {a: name for name, campaign in truth["campaigns"].items() for a in campaign["members"]}
        result.mixed_cards = sum(
            sum(count >= 3 for count in Counter(campaign_of[a] for a in c.accounts if a in campaign_of).values()) >= 2
            for c in clusters)
    return result


def evaluate(
    posts: Sequence[Post], labels: dict[str, Label], settings: DetectionSettings | None = None,
    truth: dict[str, Any] | None = None,
) -> Evaluation:
    """Run detection on `posts` and score it against `labels`.

    With `truth`, detection runs a second time with no score threshold, to read the score each
    campaign and look-alike group would get (its distribution is what the threshold cuts).
    """
    settings = settings or DetectionSettings()
    started = time.perf_counter()
    clusters = detect(posts, settings)
    result = score_clusters(clusters, labels, time.perf_counter() - started, truth)
    if truth:
        groups = {name: campaign["detectable"] for name, campaign in truth["campaigns"].items()}
        groups.update({name: group["members"] for name, group in truth["lookalikes"].items()})
        result.campaign_scores = _holder_scores(detect(posts, replace(settings, min_score=0.0)), groups)
    return result


def pooled(results: dict[int, Evaluation]) -> Evaluation:
    """Several runs (by seed) as one: counts summed, campaigns and groups named `seed/name`."""
    runs = list(results.items())
    total = Evaluation(
        flagged=sum(r.flagged for _, r in runs), true_positives=sum(r.true_positives for _, r in runs),
        coordinated=sum(r.coordinated for _, r in runs), clusters=sum(r.clusters for _, r in runs),
        organic_flagged=sum(r.organic_flagged for _, r in runs), seconds=sum(r.seconds for _, r in runs),
        mixed_cards=sum(r.mixed_cards for _, r in runs),
        truth={"campaigns": {}, "lookalikes": {}} if all(r.truth for _, r in runs) else None,
    )
    for seed, result in runs:
        total.campaigns.update({f"{seed}/{name}": value for name, value in result.campaigns.items()})
        total.hard_negatives.update({f"hard:{seed}/{name[5:]}": v for name, v in result.hard_negatives.items()})
        total.findable.update({f"{seed}/{name}": value for name, value in result.findable.items()})
        total.campaign_scores.update({(f"hard:{seed}/{name[5:]}" if name.startswith("hard:") else f"{seed}/{name}"):
                                      score for name, score in result.campaign_scores.items()})
        if total.truth is not None and result.truth is not None:
            for part in ("campaigns", "lookalikes"):
                total.truth[part].update({f"{seed}/{name}": value for name, value in result.truth[part].items()})
    return total


def _caught(result: Evaluation) -> set[str]:
    """Campaigns with at least CAUGHT_SHARE of their findable (else all) accounts flagged."""
    if result.findable:
        return {name for name, (findable, flagged) in result.findable.items()
                if findable and flagged >= CAUGHT_SHARE * findable}
    return {name for name, (accounts, flagged, _) in result.campaigns.items() if flagged >= CAUGHT_SHARE * accounts}


def _bin(value: float, edges: tuple[float, ...], labels: tuple[str, ...]) -> str:
    """The label of the first edge `value` is below (the last label past every edge)."""
    return next((label for edge, label in zip(edges, labels, strict=False) if value < edge), labels[-1])


BINS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], str]]] = {
    "accounts": (labels := ("3-9", "10-29", "30-99", "100+"),
                 lambda c, labels=labels: _bin(c["accounts"], (10, 30, 100), labels)),
    "account age": (labels := ("under 1 week", "1-4 weeks", "1-6 months", "6-24 months", "2-10 years"),
                    lambda c, labels=labels: _bin(c["age_days"], (7, 30, 180, 730), labels)),
    "spread": (labels := ("under 30 min", "30 min-3 h", "3-12 h", "12-36 h"),
               lambda c, labels=labels: _bin(c["spread_hours"], (0.5, 3, 12), labels)),
    "messages per account": (labels := ("up to 1", "up to 2", "up to 3-4", "up to 5-6"),
                             lambda c, labels=labels: _bin(c["per_account"][1], (2, 3, 5), labels)),
    "pool": (labels := ("1", "2-5", "6-20"), lambda c, labels=labels: _bin(c["pool"], (2, 6), labels)),
    "edits": (("none", "light", "evasive", "own captions"),
              lambda c: "own captions" if c["own_captions"] else c["edit"]),
    "image share": (labels := ("none", "under 50%", "50-100%"),
                    lambda c, labels=labels: _bin(c["image_share"], (1e-9, 0.5), labels)),
    "creation": (("one batch", "spread out"), lambda c: "one batch" if c["creation_spread"] == 0 else "spread out"),
}
"""How campaigns are binned by their drawn parameters for per-bin recall."""


def _bin_lines(result: Evaluation, caught: set[str]) -> list[str]:
    assert result.truth is not None
    campaigns = {name: c for name, c in result.truth["campaigns"].items() if len(c["detectable"]) >= 3}
    lines = ["recall by bin (campaigns with 3+ findable accounts; caught = 80 % of those flagged):",
             f"  {'parameter':<21} {'bin':<14} {'caught':>9} {'share':>6} {'account recall':>15} {'cards/caught':>13}"]
    for parameter, (order, bin_of) in BINS.items():
        tally: dict[str, Counter[str]] = defaultdict(Counter)
        for name, campaign in campaigns.items():
            row = tally[bin_of(campaign)]
            findable, flagged = result.findable[name]
            row.update(campaigns=1, caught=name in caught, findable=findable, flagged=flagged,
                       cards=result.campaigns[name][2] if name in caught else 0)
        for value, row in sorted(tally.items(), key=lambda item: order.index(item[0])):
            lines.append(f"  {parameter:<21} {value:<14} {row['caught']:>4}/{row['campaigns']:<4} "
                         f"{row['caught'] / row['campaigns']:>6.0%} {row['flagged'] / max(1, row['findable']):>15.3f}"
                         f" {row['cards'] / max(1, row['caught']):>13.2f}")
            parameter = ""
    return lines


def _distribution_lines(result: Evaluation) -> list[str]:
    campaign = sorted(s for n, s in result.campaign_scores.items() if not n.startswith("hard:"))
    lookalike = sorted(s for n, s in result.campaign_scores.items() if n.startswith("hard:"))

    def summary(scores: list[float]) -> str:
        if len(scores) < 2:
            return "-"
        tenths = quantiles(scores, n=10, method="inclusive")
        return (f"min {scores[0]:.2f}  p10 {tenths[0]:.2f}  median {tenths[4]:.2f}  p90 {tenths[8]:.2f}  "
                f"max {scores[-1]:.2f}")

    lines = ["score distributions (no threshold; each group scored by the cluster holding most of it):",
             f"  campaigns ({len(campaign)}):   {summary(campaign)}",
             f"  look-alikes ({len(lookalike)}): {summary(lookalike)}",
             f"  {'score':<9} {'campaigns':>9} {'look-alikes':>11}"]
    for tenth in range(10):
        low, high = tenth / 10, (tenth + 1) / 10
        count = sum(low <= s < high or (tenth == 9 and s == 1.0) for s in campaign)
        look = sum(low <= s < high or (tenth == 9 and s == 1.0) for s in lookalike)
        lines.append(f"  {low:.1f}-{high:.1f}   {count:>9} {look:>11}")
    return lines


def format_report(result: Evaluation) -> str:
    """A plain-text summary: overall, then per campaign kind or parameter bin, then look-alike groups."""
    caught = _caught(result)
    lines = [
        f"accounts flagged: {result.flagged} in {result.clusters} clusters ({result.seconds:.1f} s)",
        f"account precision: {result.precision:.3f}  recall: {result.recall:.3f}",
        f"organic accounts flagged: {result.organic_flagged}",
    ]
    if result.findable:
        findable = sum(f for f, _ in result.findable.values())
        lines.append(f"recall of findable accounts (sharing content with 2+ others of their campaign): "
                     f"{sum(g for _, g in result.findable.values()) / max(1, findable):.3f} of {findable}")
    if result.campaigns:
        counted = [c for c in result.campaigns if not result.findable or result.findable[c][0] >= 3]
        per_caught = sum(result.campaigns[c][2] for c in caught) / len(caught) if caught else 0.0
        lines.append(f"campaigns caught: {len(caught & set(counted))}/{len(counted)}  "
                     f"cards per caught campaign: {per_caught:.2f}"
                     + (f"  cards mixing campaigns: {result.mixed_cards}" if result.truth else ""))
        if result.truth:
            lines.extend(_bin_lines(result, caught))
        else:
            kinds: dict[str, Counter[str]] = defaultdict(Counter)
            for campaign, (_, _, clusters) in result.campaigns.items():
                tally = kinds[kind_of(campaign)]
                tally.update(total=1, caught=campaign in caught, clusters=clusters if campaign in caught else 0)
            for kind, tally in sorted(kinds.items()):
                lines.append(f"  {kind:<12} caught {tally['caught']}/{tally['total']}"
                             f"  clusters/caught {tally['clusters'] / max(1, tally['caught']):.2f}")
    if result.hard_negatives:
        groups: dict[str, Counter[str]] = defaultdict(Counter)
        for group, (accounts, flagged) in result.hard_negatives.items():
            groups[kind_of(group)].update(accounts=accounts, flagged=flagged, groups=1, hit=flagged > 0)
        total = sum(g["accounts"] for g in groups.values())
        flagged = sum(g["flagged"] for g in groups.values())
        lines.append(f"organic look-alikes (must stay quiet): {flagged}/{total} accounts flagged "
                     f"({flagged / max(1, total):.1%})")
        lines.extend(f"  {group:<20} flagged {tally['flagged']}/{tally['accounts']} accounts "
                     f"in {tally['hit']}/{tally['groups']} groups" for group, tally in sorted(groups.items()))
    if result.campaign_scores:
        lines.extend(_distribution_lines(result))
    return "\n".join(lines)
