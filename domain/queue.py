"""The moderators' queue as App Home shows it: clusters waiting, who claimed them, the filters one moderator
picks, and what that moderator decided lately. Built by storage, rendered by the Slack side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.decisions import Action, ClusterStatus, DecisionStatus
from domain.views import ClaimView, Digest, Severity, severity_of


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One cluster waiting for moderators: how urgent and large, since when, from where, and who took it."""

    id: str
    score: float
    accounts: int
    flagged_at: datetime
    status: ClusterStatus
    platform: str
    channel: str | None = None
    message_ts: str | None = None
    claim: ClaimView | None = None

    @property
    def severity(self) -> Severity:
        return severity_of(self.score)


class ClaimFilter(StrEnum):
    """Which claims the queue shows: every cluster, those the viewer claimed, or those nobody claimed."""

    ANYONE = "anyone"
    MINE = "mine"
    UNCLAIMED = "unclaimed"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What one moderator chose to see: a severity, a platform, and whose claims (None: all)."""

    severity: Severity | None = None
    platform: str | None = None
    claimed: ClaimFilter = ClaimFilter.ANYONE

    def admits(self, item: QueueItem, viewer: str) -> bool:
        """Whether `item` passes the filter for `viewer`."""
        holder = item.claim.moderator if item.claim else None
        return ((self.severity is None or item.severity == self.severity)
                and (self.platform is None or item.platform == self.platform)
                and (self.claimed is ClaimFilter.ANYONE
                     or (self.claimed is ClaimFilter.MINE and holder == viewer)
                     or (self.claimed is ClaimFilter.UNCLAIMED and holder is None)))


@dataclass(frozen=True, slots=True)
class DecidedCluster:
    """A decision one moderator took, with the card it was taken on (for "what I decided")."""

    cluster_id: str
    decision_id: int
    action: Action
    accounts: int
    status: DecisionStatus
    created_at: datetime
    channel: str | None = None
    message_ts: str | None = None


@dataclass(frozen=True, slots=True)
class ModeratorHome:
    """Everything one moderator's App Home shows: a page of the filtered queue (`page` counts from 0 and
    `matching` clusters pass the filter, of `waiting`), their recent decisions, and the week's figures."""

    viewer: str
    now: datetime
    filters: QueueFilter
    page: int
    pages: int
    items: list[QueueItem]
    matching: int
    waiting: int
    platforms: list[str]
    decided: list[DecidedCluster]
    week: Digest
