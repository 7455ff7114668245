"""The interface every platform adapter implements, so the poller and handlers never care which."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from domain.admin import OpenReport, SignUp
from domain.decisions import Action
from domain.models import Author, Post
from domain.records import RecordError

MALFORMED_RECORD = (ValueError, TypeError, AttributeError, KeyError, IndexError)
"""What turning one platform record into a post may raise when a field has the wrong type or shape
(`RecordError` is a ValueError): that record is skipped and named, the rest of the page is read."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record the source could not turn into a post: where it was and what was wrong."""

    where: str
    problem: str


@dataclass(slots=True)
class FetchResult:
    """One batch from a source: the posts, the cursor just past them, and what was skipped.

    `next_cursor` is stored in the same transaction as `posts`, so it must cover exactly them
    (and the skipped records); `exhausted` says the source has nothing more right now.
    """

    posts: list[Post]
    next_cursor: str | None
    skipped: list[Skipped] = field(default_factory=list)
    exhausted: bool = True
    notices: list[str] = field(default_factory=list)
    """Problems the moderators must hear about once (a missing token scope, a disabled timeline)."""


def skipped_record(where: str, error: Exception) -> Skipped:
    """The `Skipped` entry for a record that raised one of `MALFORMED_RECORD`, its problem in one short line."""
    problem = str(error) if isinstance(error, RecordError) else f"malformed: {type(error).__name__}: {error}"
    return Skipped(where, problem[:300])


class Source(Protocol):
    """Reads new posts from a platform, past an opaque cursor the source itself wrote."""

    name: str

    def fetch(self, cursor: str | None, limit: int) -> FetchResult:
        """Return up to about `limit` posts that come after `cursor` (None: from the start)."""
        ...


@runtime_checkable
class Enriching(Protocol):
    """A source whose posts may lack account facts (creation time, post count) that a lookup per account gives.

    Looking every author up as posts are read would spend the request budget on accounts nobody
    will ever review; the poller asks only for the accounts of candidate groups, after the posts are
    stored, and the lookups spend only the budget above the share kept for reading posts.
    """

    def wants_facts(self, author: Author) -> bool:
        """Whether a lookup could tell more about `author` than its posts did (and was not done already)."""
        ...

    def look_up(self, authors: Sequence[Author]) -> list[Author]:
        """The authors the platform told more about, with those facts, in the order asked; those the budget or
        the platform did not allow now are left out, to be asked again later."""
        ...


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of one action on one account; `detail` is shown on the card when it failed."""

    account_id: str
    action: Action
    ok: bool
    detail: str = ""
    retryable: bool = False
    """The failure was transient (timeout, 5xx, rate limit): the same action may be tried again."""
    unsupported: bool = False
    """The platform does not offer this action for this account (e.g. disabling a remote account)."""


class Enforcer(Protocol):
    """Carries out moderation actions on a platform.

    `idempotency_key` is unique per decision and account: an enforcer that is handed the same key
    twice must not act twice.
    """

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Carry out `action` on `account_id` and say how it went."""
        ...


@dataclass(frozen=True, slots=True)
class Case:
    """What a decision is about: the cluster, the evidence shown on its card, and the moderator's policy tag.

    Platforms that keep a moderation log of their own (Ozone's event comment) record it beside the action.
    """

    cluster_id: str
    reasons: tuple[str, ...] = ()
    policy: str = ""
    reports: Mapping[str, str] = field(default_factory=dict)
    """The newest open report about each account that has one: the action is filed under it (and resolves it)."""


@runtime_checkable
class CaseAware(Protocol):
    """An enforcer that records the case beside each action, optional beside `Enforcer`."""

    def act_on_case(self, action: Action, account_id: str, reason: str, idempotency_key: str,
                    case: Case) -> ActionResult:
        """Carry out `action` like `Enforcer.act`, with the case it is taken on."""
        ...


def act(enforcer: Enforcer, action: Action, account_id: str, reason: str, idempotency_key: str,
        case: Case | None = None) -> ActionResult:
    """Carry out `action`, handing the case to enforcers that record it."""
    if case is not None and isinstance(enforcer, CaseAware):
        return enforcer.act_on_case(action, account_id, reason, idempotency_key, case)
    return enforcer.act(action, account_id, reason, idempotency_key)


@runtime_checkable
class Reconciling(Protocol):
    """An enforcer that can read back an account's moderation state, optional beside `Enforcer`.

    Platforms without idempotency keys for moderation (Mastodon) would act twice if an action cut
    short by a crash or a timeout were simply sent again; asking first makes the repeat safe.
    """

    def in_effect(self, action: Action, account_id: str) -> bool | None:
        """Whether the account already is as `action` leaves it; None when the platform cannot tell."""
        ...


@runtime_checkable
class Refreshing(Protocol):
    """A source that can read accounts' current facts again, optional beside `Source`: the poller refreshes
    the accounts of new and grown clusters before their cards are posted."""

    def refresh_authors(self, account_ids: Sequence[str]) -> list[Author]:
        """The accounts' current facts (those it could read)."""
        ...


def in_effect(enforcer: Enforcer, action: Action, account_id: str) -> bool | None:
    """Ask a `Reconciling` enforcer whether `action` already holds; None for enforcers that cannot tell."""
    return enforcer.in_effect(action, account_id) if isinstance(enforcer, Reconciling) else None


def reads_state(enforcer: Enforcer) -> bool:
    """Whether the enforcer reads accounts' state back at all, so that a None from `in_effect` means
    "could not read it now" rather than "this platform cannot tell" (a wrapper says it for what it wraps)."""
    return bool(getattr(enforcer, "reads_state", isinstance(enforcer, Reconciling)))


DEFAULT_ACCOUNT_ACTIONS = frozenset({Action.SUSPEND, Action.REQUIRE_VERIFICATION})
"""What every enforcer can do to an account; one that can do more says so in `account_actions`."""


def offered_actions(enforcer: Enforcer) -> frozenset[Action]:
    """The account actions the platform carries out (an enforcer may say so in `account_actions`)."""
    actions = getattr(enforcer, "account_actions", None)
    return frozenset(actions) if isinstance(actions, frozenset) else DEFAULT_ACCOUNT_ACTIONS


def acts_on_domains(enforcer: Enforcer) -> bool:
    """Whether the platform can block or limit a whole remote domain (an enforcer says so in `domain_actions`)."""
    return getattr(enforcer, "domain_actions", False) is True


@runtime_checkable
class ReportReading(Protocol):
    """A source that can list the platform's unresolved reports about accounts, optional beside `Source`."""

    def open_reports(self) -> list[OpenReport] | None:
        """Every unresolved report it could read; None when it cannot read them (now or at all)."""
        ...


@runtime_checkable
class SiblingFinding(Protocol):
    """A source that can read local accounts' sign-up details from the admin API, optional beside `Source`."""

    def sign_ups(self, account_ids: Sequence[str]) -> list[SignUp] | None:
        """The sign-up details of those of `account_ids` that are local; None when it cannot read them."""
        ...

    def local_sign_ups(self, since: datetime, until: datetime) -> list[SignUp] | None:
        """Every local account created between `since` and `until`, dormant ones too; None when it cannot tell."""
        ...


@runtime_checkable
class DomainFollowing(Protocol):
    """A source that can count the follows local accounts have of a remote domain's accounts."""

    def local_follows(self, domain: str) -> int | None:
        """Follows by local accounts of accounts on `domain`; None when it cannot tell."""
        ...


def reason_limit(enforcer: Enforcer) -> int | None:
    """The longest reason the platform takes (an enforcer may say so in `reason_limit`); None when it sets none."""
    limit = getattr(enforcer, "reason_limit", None)
    return limit if isinstance(limit, int) else None
