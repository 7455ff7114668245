"""What a platform's admin API tells beyond posts: reports people filed, and the sign-up details that tie
accounts made by one hand together. Sign-up IPs and e-mail domains stay inside Chorus's memory: they are
compared, never stored or shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class OpenReport:
    """An unresolved report about an account."""

    id: str
    account_id: str
    created_at: datetime
    category: str = ""


@dataclass(frozen=True, slots=True)
class SignUp:
    """A local account as the admin API describes its sign-up: when, from which IP, with which e-mail domain,
    and whether it ever posted."""

    account_id: str
    handle: str
    created_at: datetime
    ip: str | None = None
    email_domain: str | None = None
    posts_count: int | None = None
    url: str | None = None
