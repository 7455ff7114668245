"""What moderators look up (`/chorus lookup`, `search`) and what the audit log holds, as storage reads them back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.decisions import ClusterStatus


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """An account as Chorus last saw it, and when it first and last posted."""

    id: str
    handle: str
    created_at: datetime | None
    first_seen: datetime | None


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """One line about a cluster an account belongs to."""

    id: str
    status: ClusterStatus
    account_count: int
    post_count: int
    flagged_at: datetime


@dataclass(frozen=True, slots=True)
class PostLine:
    """A stored post as a lookup lists it; search results also name the author and the clusters holding it."""

    id: str
    created_at: datetime
    text: str
    author_handle: str = ""
    clusters: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry of the append-only audit log: who did what, when, to which cluster, decision or account."""

    id: int
    at: datetime
    actor: str
    event: str
    cluster_id: str | None
    decision_id: int | None
    account_id: str | None
    detail: dict[str, Any]
