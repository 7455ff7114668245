"""Modal submissions: the review modal's ticked accounts, action, policy and reason become a decision."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain.decisions import Action
from handlers import ids
from handlers.actions import answer, told_if_failed
from handlers.blocks import reason_chars
from handlers.context import Chorus
from handlers.middleware import DECISION_GUARD
from platforms.base import reason_limit
from service import decisions


def selected_review(state: dict[str, dict[str, Any]]) -> tuple[list[str], str, str, str]:
    """(ticked account ids, action, policy, reason) from a review modal's state values."""
    accounts = [option["value"]
                for block_id, block in sorted(state.items()) if block_id.startswith(ids.ACCOUNTS_BLOCK_PREFIX)
                for option in block[ids.ACCOUNTS_ACTION].get("selected_options") or []]
    action = ((state.get(ids.ACTION_BLOCK, {}).get(ids.ACTION_CHOICE) or {}).get("selected_option") or {})
    policy = ((state.get(ids.POLICY_BLOCK, {}).get(ids.POLICY_SELECT) or {}).get("selected_option") or {})
    reason = (state.get(ids.REASON_BLOCK, {}).get(ids.REASON_INPUT) or {}).get("value") or ""
    return accounts, action.get("value", ""), policy.get("value", ""), reason.strip()


REVIEW_ACTIONS = {Action.SUSPEND, Action.REQUIRE_VERIFICATION}
"""What the review modal can do to the ticked accounts."""


def submit_review(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Validate the modal (errors are shown in it), close it, then decide on the ticked accounts."""
    chorus: Chorus = context["chorus"]
    cluster = context["cluster"]
    accounts, action, policy, reason = selected_review(view["state"]["values"])
    known = {a.id for a in cluster.accounts}
    first_group = f"{ids.ACCOUNTS_BLOCK_PREFIX}0"
    if not accounts:
        ack(response_action="errors", errors={first_group: "Tick at least one account."})
        return
    if not set(accounts) <= known or action not in REVIEW_ACTIONS:
        ack(response_action="errors", errors={first_group: "The selection does not match this cluster."})
        return
    if policy not in chorus.settings.policies:
        ack(response_action="errors", errors={ids.POLICY_BLOCK: "Choose a policy."})
        return
    longest = reason_chars(reason_limit(chorus.desk.enforcer))
    if len(reason) > longest:
        ack(response_action="errors", errors={ids.REASON_BLOCK: f"The platform takes at most {longest} characters; "
                                                                f"this reason has {len(reason)}."})
        return
    ack()
    with told_if_failed(client, context):
        answer(client, context, decisions.decide(chorus.desk, cluster.id, context["user_id"], Action(action),
                                                 accounts, reason, policy))


def register(app: App) -> None:
    """Wire the review modal's submission, behind the decision guard."""
    app.view(ids.REVIEW_MODAL, middleware=DECISION_GUARD)(submit_review)
