"""Read models for cards and digests: what a moderator sees, built from storage, rendered anywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.decisions import ACCOUNT_ACTIONS, ACTIVE_STATUSES, PRIMARY_ACTIONS, Action, ClusterStatus, DecisionStatus


def mention(handle: str) -> str:
    """How a card names an account: `@handle`, or a bare DID when a Bluesky account has no handle to show."""
    return handle if handle.startswith("did:") else f"@{handle}"


def remote_domain_of(handle: str) -> str | None:
    """The remote domain of a fediverse handle (`name@domain`), lower-cased; None for a local one."""
    _, at, domain = handle.rpartition("@")
    return domain.lower() if at and domain and "." in domain else None


def majority_domain(handles: list[str]) -> tuple[str, int] | None:
    """The remote domain more than half of these accounts come from, and how many do; None when none does."""
    counts: dict[str, int] = {}
    for handle in handles:
        domain = remote_domain_of(handle)
        if domain:
            counts[domain] = counts.get(domain, 0) + 1
    if not counts:
        return None
    domain, count = max(counts.items(), key=lambda item: (item[1], item[0]))
    return (domain, count) if count * 2 > len(handles) else None


class Severity(StrEnum):
    """How urgent a cluster looks, from its score: what a card's header and the queue's filter show."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def severity_of(score: float) -> Severity:
    """High from 0.8, medium from 0.65, low below."""
    return Severity.HIGH if score >= 0.8 else Severity.MEDIUM if score >= 0.65 else Severity.LOW


@dataclass(frozen=True, slots=True)
class ClaimView:
    """Who has taken a cluster, so two moderators do not work on it at once, and since when."""

    moderator: str
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class AccountView:
    """One account of a cluster as a card lists it."""

    id: str
    handle: str
    url: str | None
    created_at: datetime | None
    age_days_at_post: float | None


@dataclass(frozen=True, slots=True)
class DecisionView:
    """A decision taken on a cluster, with who approved it and which accounts' actions failed."""

    id: int
    action: Action
    moderator: str
    status: DecisionStatus
    created_at: datetime
    accounts: list[str]
    reason: str = ""
    policy: str = ""
    approved_by: str = ""
    finished_at: datetime | None = None
    failures: dict[str, str] = field(default_factory=dict)  # account id -> what the platform said
    late_batch: int | None = None
    """For a decision on accounts that joined after the cluster was decided: their batch (it does not hold the
    cluster)."""
    plan: dict[str, Action] = field(default_factory=dict)
    """The action for each account when they differ (a review suspending some and verifying others); empty when
    every account gets `action`."""
    dry_run: bool = False
    """Recorded while `enforcement.dry_run` was on: carried out in Chorus only, nothing sent to the platform."""

    def action_for(self, account_id: str) -> Action:
        """What this decision does to one of its accounts."""
        return self.plan.get(account_id, self.action)

    def groups(self) -> dict[Action, list[str]]:
        """The decision's accounts by the action each gets, the headline action first."""
        grouped: dict[Action, list[str]] = {self.action: []}
        for account in self.accounts:
            grouped.setdefault(self.action_for(account), []).append(account)
        return {action: accounts for action, accounts in grouped.items() if accounts}

    def undo_open(self, now: datetime, undo_minutes: float) -> bool:
        """Whether a carried-out decision still offers Undo: for `undo_minutes` after it finished."""
        carried_out = self.status in (DecisionStatus.DONE, DecisionStatus.FAILED)
        return carried_out and now <= (self.finished_at or self.created_at) + timedelta(minutes=undo_minutes)


WHOLE_CLUSTER_LABELS = {Action.SUSPEND: "Suspend all", Action.LIMIT: "Limit all",
                        Action.REQUIRE_VERIFICATION: "Require verification"}
"""A card's button for each account action on every account of the cluster (Slack and the console show the same)."""


@dataclass(frozen=True, slots=True)
class CardOptions:
    """What cards offer and say beside a cluster's own state, from configuration and the platform: the account
    actions (`enforcement.actions` the platform can carry out), whether a remote domain can be acted on, whether
    decisions are dry runs, and where the platform's admin pages are (report links)."""

    actions: tuple[Action, ...] = ACCOUNT_ACTIONS
    domain_actions: bool = False
    dry_run: bool = False
    admin_url: str | None = None


@dataclass(frozen=True, slots=True)
class OpenReports:
    """The platform's unresolved reports about a cluster's accounts: how many, on how many accounts, the newest."""

    count: int
    accounts: int
    newest_id: str


@dataclass(frozen=True, slots=True)
class RemoteDomain:
    """The remote domain most of a cluster's accounts come from, and what acting on it would touch."""

    domain: str
    accounts: int
    """The cluster's accounts from there..."""
    total: int
    """...of its accounts in all."""
    local_follows: int | None = None
    """Follows local accounts have of accounts there (None: not known)."""


@dataclass(frozen=True, slots=True)
class ClusterView:
    """Everything a cluster card shows; Slack blocks and the console render this same model."""

    id: str
    score: float
    status: ClusterStatus
    accounts: list[AccountView]
    post_count: int
    distinct_texts: int
    sample_texts: list[str]
    first_seen: datetime
    last_seen: datetime
    flagged_at: datetime
    reasons: list[str]
    media: list[str] = field(default_factory=list)
    decisions: list[DecisionView] = field(default_factory=list)
    channel: str | None = None
    message_ts: str | None = None
    card_version: int = 0
    """Bumped by every change a card shows; a card is up to date when Slack shows this version."""
    claim: ClaimView | None = None
    reports: OpenReports | None = None
    remote_domain: RemoteDomain | None = None

    @property
    def severity(self) -> Severity:
        """High, medium or low, from the score, for the card's header."""
        return severity_of(self.score)

    @property
    def live_decision(self) -> DecisionView | None:
        """The decision that holds the cluster, if any (storage enforces there is at most one)."""
        live = [d for d in self.decisions
                if d.action in PRIMARY_ACTIONS and d.status in ACTIVE_STATUSES and d.late_batch is None]
        return live[-1] if live else None

    def late_decision(self, batch_id: int) -> DecisionView | None:
        """The decision taken on a batch of late accounts: the live one, else the last."""
        taken = [d for d in self.decisions if d.late_batch == batch_id and d.action in PRIMARY_ACTIONS]
        live = [d for d in taken if d.status in ACTIVE_STATUSES]
        return (live or taken or [None])[-1]


@dataclass(frozen=True, slots=True)
class ClusterChange:
    """A cluster the last poll created or grew, with what is new, for the notifier."""

    cluster_id: str
    kind: str  # "new" or "grown"
    added_accounts: list[str]
    added_posts: int
    earlier_attempt: datetime | None = None
    """When an earlier announcement of this change began and never finished: it may have reached Slack."""
    late_batch: int | None = None
    """The batch the added accounts form when the cluster was already decided: they get their own buttons."""
    late_accounts: tuple[str, ...] = ()
    """The accounts of that batch: the added ones, but those already flagged in the thread (a known campaign's
    posters) who have buttons of their own."""


class BatchKind(StrEnum):
    """Why accounts outside a cluster's decision get buttons of their own in its thread."""

    LATE = "late"
    """They joined the cluster after it was decided."""
    KNOWN_CAMPAIGN = "known_campaign"
    """They posted an image or text of a campaign moderators suspended (its fingerprint)."""
    SIBLINGS = "siblings"
    """They were created in the cluster's creation window and share sign-up details with its accounts."""


@dataclass(frozen=True, slots=True)
class BatchMember:
    """An account of a batch that the cluster's card does not list: how to name it, and why it is there."""

    handle: str
    url: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class LateBatch:
    """Accounts a cluster's decision does not cover (see `BatchKind`), and the thread reply that offers buttons for
    them; `members` names those the card does not."""

    id: int
    cluster_id: str
    accounts: list[str]
    channel: str | None = None
    message_ts: str | None = None
    kind: BatchKind = BatchKind.LATE
    members: dict[str, BatchMember] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingCluster:
    """A cluster still waiting for a decision, with where its card lives (for a link)."""

    id: str
    accounts: int
    flagged_at: datetime
    channel: str | None = None
    message_ts: str | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """A period's summary for team leads: what was flagged, decided, and is still waiting.

    `timeline` holds (bucket start, clusters flagged, accounts flagged) per `bucket_hours`;
    the `previous_*` counts are the same figures for the period before, for the trend.
    """

    since: datetime
    until: datetime
    clusters_flagged: int
    accounts_flagged: int
    posts_flagged: int
    decisions_by_action: dict[str, int]
    decisions_by_moderator: dict[str, int]
    pending: list[PendingCluster]
    failed_actions: int
    largest: list[tuple[str, int, str]]  # (cluster id, accounts, sample text), largest first
    accounts_suspended: int = 0
    accounts_verification: int = 0
    accounts_limited: int = 0
    decision_minutes_p50: float | None = None
    decision_minutes_p90: float | None = None
    previous_clusters: int = 0
    previous_accounts: int = 0
    bucket_hours: int = 1
    timeline: list[tuple[datetime, int, int]] = field(default_factory=list)
    unclaimed: list[PendingCluster] = field(default_factory=list)
    """Clusters waiting longer than `unclaimed_hours` that no moderator has claimed, oldest first."""
    unclaimed_hours: float | None = None

    @property
    def dismissed_share(self) -> float | None:
        """Share of decisions that were dismissals: a false-positive signal for tuning."""
        total = sum(self.decisions_by_action.values())
        return self.decisions_by_action.get(Action.DISMISS, 0) / total if total else None
