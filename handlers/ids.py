"""Every action id, callback id and block id the Slack side uses, in one place.

Listeners, Block Kit builders and tests refer to these names, never to string literals.
"""

from __future__ import annotations

COMMAND = "/chorus"

# Buttons on a cluster card
SUSPEND_ALL = "chorus_suspend_all"
REQUIRE_VERIFICATION = "chorus_require_verification"
DISMISS = "chorus_dismiss"
REVIEW = "chorus_review"
# Buttons on a card that holds a decision
APPROVE = "chorus_approve"
CANCEL_REQUEST = "chorus_cancel_request"
RETRY = "chorus_retry"
UNDO = "chorus_undo"

DECISION_BUTTONS = (SUSPEND_ALL, REQUIRE_VERIFICATION, DISMISS, REVIEW)
FOLLOW_UP_BUTTONS = (APPROVE, CANCEL_REQUEST, RETRY, UNDO)

# The review modal
REVIEW_MODAL = "chorus_review_modal"
ACCOUNTS_BLOCK_PREFIX = "accounts_"  # one checkbox block per ten accounts: accounts_0, accounts_1, ...
ACCOUNTS_ACTION = "accounts"
ACTION_BLOCK = "action"
ACTION_CHOICE = "action_choice"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
POLICY_BLOCK = "policy"
POLICY_SELECT = "policy_select"


def button_value(cluster_id: str, decision_id: int | None = None) -> str:
    """What a card button carries: the cluster, and for follow-up buttons the decision."""
    return cluster_id if decision_id is None else f"{cluster_id}:{decision_id}"


MAX_DECISION_ID = 2**63 - 1
"""SQLite's largest integer: no decision id is larger, and a larger one cannot even be looked up."""


def parse_button_value(value: str) -> tuple[str, int | None]:
    """The inverse of `button_value`; ValueError for anything it could not have produced."""
    cluster_id, _, decision = value.partition(":")
    if not cluster_id.startswith("c-") or (decision and not (decision.isascii() and decision.isdigit()
                                                             and int(decision) <= MAX_DECISION_ID)):
        raise ValueError(f"not a Chorus button value: {value[:100]!r}")
    return cluster_id, int(decision) if decision else None
