"""Every action id, callback id and block id the Slack side uses, in one place.

Listeners, Block Kit builders and tests refer to these names, never to string literals.
"""

from __future__ import annotations

from typing import NamedTuple

COMMAND = "/chorus"

# Buttons on a cluster card
SUSPEND_ALL = "chorus_suspend_all"
LIMIT_ALL = "chorus_limit_all"
REQUIRE_VERIFICATION = "chorus_require_verification"
DISMISS = "chorus_dismiss"
REVIEW = "chorus_review"
# Buttons on a card that holds a decision
APPROVE = "chorus_approve"
CANCEL_REQUEST = "chorus_cancel_request"
RETRY = "chorus_retry"
UNDO = "chorus_undo"

LATE_SUSPEND = "chorus_late_suspend"  # in a thread reply: for a batch the decision does not cover (late, known
LATE_LIMIT = "chorus_late_limit"  # campaign, siblings); the value names the batch
LATE_REQUIRE_VERIFICATION = "chorus_late_require_verification"
DOMAIN_LIMIT = "chorus_domain_limit"  # on a card most of whose accounts come from one remote domain
DOMAIN_SUSPEND = "chorus_domain_suspend"
CLAIM = "chorus_claim"  # on the card and in App Home; "Take over" when someone holds the cluster
DECISION_BUTTONS = (SUSPEND_ALL, LIMIT_ALL, REQUIRE_VERIFICATION, DISMISS, REVIEW)
OPEN_CARD_BUTTONS = (*DECISION_BUTTONS, CLAIM)
"""Every button on a card nobody has decided on yet."""
FOLLOW_UP_BUTTONS = (APPROVE, CANCEL_REQUEST, RETRY, UNDO)

# The review modal
REVIEW_MODAL = "chorus_review_modal"
ACCOUNTS_BLOCK_PREFIX = "accounts_"  # one checkbox block per group of ten accounts: accounts_0, accounts_1, ...
ACCOUNTS_ACTION = "accounts"
GROUP_ACTION_PREFIX = "group_action_"  # each group's own action: group_action_0, ... (numbered like its accounts)
ACTION_CHOICE = "action_choice"
REVIEW_PAGE_PREVIOUS = "chorus_review_page_previous"  # value: page_value(cluster, page to show)
REVIEW_PAGE_NEXT = "chorus_review_page_next"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
POLICY_BLOCK = "policy"
POLICY_SELECT = "policy_select"

# App Home
HOME_FILTER_SEVERITY = "chorus_home_severity"
HOME_FILTER_PLATFORM = "chorus_home_platform"
HOME_FILTER_CLAIMED = "chorus_home_claimed"
HOME_FILTERS = (HOME_FILTER_SEVERITY, HOME_FILTER_PLATFORM, HOME_FILTER_CLAIMED)
HOME_PAGE_PREVIOUS = "chorus_home_page_previous"  # value: the page number to show
HOME_PAGE_NEXT = "chorus_home_page_next"
ALL = "all"
"""The filter value that admits everything."""


def button_value(cluster_id: str, decision_id: int | None = None) -> str:
    """What a card button carries: the cluster, and for follow-up buttons the decision."""
    return cluster_id if decision_id is None else f"{cluster_id}:{decision_id}"


def claim_value(cluster_id: str, holder: str | None) -> str:
    """What a Claim button carries: the cluster, and the holder the moderator saw (so a take-over takes it
    from that holder and no other)."""
    return cluster_id if holder is None else f"{cluster_id}@{holder}"


def late_value(cluster_id: str, batch_id: int) -> str:
    """What a late accounts' button carries: the cluster and the batch of accounts that joined it late."""
    return f"{cluster_id}+{batch_id}"


def page_value(cluster_id: str, page: int) -> str:
    """What a review modal's Previous / Next carries: the cluster and the page to show."""
    return f"{cluster_id}#{page}"


class ButtonRef(NamedTuple):
    """What a button or modal names: a cluster, perhaps a decision on it, the claim holder shown, or a page."""

    cluster_id: str
    decision_id: int | None = None
    holder: str | None = None
    page: int | None = None
    late_batch: int | None = None


MAX_DECISION_ID = 2**63 - 1
"""SQLite's largest integer: no decision id is larger, and a larger one cannot even be looked up."""


def parse_button_value(value: str) -> ButtonRef:
    """The inverse of `button_value`, `claim_value`, `late_value` and `page_value`; ValueError for anything they
    could not have produced."""
    rest, _, page = value.partition("#")
    rest, _, holder = rest.partition("@")
    rest, _, batch = rest.partition("+")
    cluster_id, _, decision = rest.partition(":")
    if (not cluster_id.startswith("c-")
            or (decision and not (decision.isascii() and decision.isdigit() and int(decision) <= MAX_DECISION_ID))
            or ("@" in value and not (holder.isascii() and holder.isalnum() and len(holder) <= 32))
            or ("#" in value and not (page.isascii() and page.isdigit() and len(page) <= 6))
            or ("+" in value and not (batch.isascii() and batch.isdigit() and len(batch) <= 18))):
        raise ValueError(f"not a Chorus button value: {value[:100]!r}")
    return ButtonRef(cluster_id, int(decision) if decision else None, holder or None, int(page) if page else None,
                     int(batch) if batch else None)
