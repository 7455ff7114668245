"""The review modal: its pages, and its submission, which becomes one decision giving each group of ticked
accounts the action chosen for that group.

A modal lists a page of accounts at a time (Slack allows 100 blocks); moving to another page keeps what
was ticked on this one in storage (`review_drafts`, keyed by Slack's view id), so the submission covers
every page.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain.decisions import Action
from domain.views import ClusterView
from handlers import ids
from handlers.actions import answer, told_if_failed
from handlers.blocks import CHECKBOX_OPTIONS, reason_chars, review_modal
from handlers.context import Chorus
from handlers.middleware import DECISION_GUARD
from platforms.base import reason_limit
from service import decisions


def _selected(state: dict[str, dict[str, Any]], key: str, field: str) -> dict[str, Any]:
    return ((state.get(key) or {}).get(field) or {}).get("selected_option") or {}


def ticked_groups(state: dict[str, dict[str, Any]]) -> tuple[list[int], dict[str, str]]:
    """The account groups on a modal page (by number) and the ticked accounts with their group's action.

    An action Chorus did not offer is kept as given, for the caller to refuse.
    """
    groups: list[int] = []
    ticked: dict[str, str] = {}
    for block_id, block in state.items():
        number = block_id.removeprefix(ids.ACCOUNTS_BLOCK_PREFIX)
        if block_id == number or not (number.isascii() and number.isdigit()):
            continue
        groups.append(int(number))
        action = _selected(state, f"{ids.GROUP_ACTION_PREFIX}{number}", ids.ACTION_CHOICE).get("value", "")
        for option in (block.get(ids.ACCOUNTS_ACTION) or {}).get("selected_options") or []:
            ticked[option["value"]] = action
    return sorted(groups), ticked


def review_form(state: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """(policy, reason) from a review modal's state values."""
    reason = ((state.get(ids.REASON_BLOCK) or {}).get(ids.REASON_INPUT) or {}).get("value") or ""
    return _selected(state, ids.POLICY_BLOCK, ids.POLICY_SELECT).get("value", ""), reason.strip()


def _keep_page(chorus: Chorus, cluster: ClusterView, user_id: str, view: dict[str, Any]) -> dict[str, str] | None:
    """Record this page's ticks in the modal's draft and return every tick so far; None if the page names
    accounts or actions this cluster's modal could not have shown."""
    groups, ticked = ticked_groups(view["state"]["values"])
    accounts = [a.id for a in cluster.accounts]
    shown = [a for g in groups for a in accounts[g * CHECKBOX_OPTIONS:(g + 1) * CHECKBOX_OPTIONS]]
    if not set(ticked) <= set(shown) or not set(ticked.values()) <= set(chorus.card_options.actions):
        return None
    return chorus.store.merge_review_draft(view["id"], cluster.id, user_id, shown,
                                           {a: Action(act) for a, act in ticked.items()})


def submit_review(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Validate the modal (errors are shown in it), close it, then decide on every page's ticked accounts."""
    chorus: Chorus = context["chorus"]
    cluster = context["cluster"]
    state = view["state"]["values"]
    groups, _ = ticked_groups(state)
    first_group = f"{ids.ACCOUNTS_BLOCK_PREFIX}{groups[0] if groups else 0}"
    plan = _keep_page(chorus, cluster, context["user_id"], view)
    if plan is None:
        ack(response_action="errors", errors={first_group: "The selection does not match this cluster."})
        return
    if not plan:
        ack(response_action="errors", errors={first_group: "Tick at least one account."})
        return
    policy, reason = review_form(state)
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
        chorus.store.drop_review_draft(view["id"])  # the modal is closed: its draft has served
        answer(client, context, decisions.decide_each(chorus.desk, cluster.id, context["user_id"], plan, reason,
                                                      policy))


def turn_review_page(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Previous / Next accounts: keep this page's ticks, then show the other page with every tick so far."""
    ack()
    chorus: Chorus = context["chorus"]
    cluster = context["cluster"]
    view = body["view"]
    with told_if_failed(client, context):
        ticked = _keep_page(chorus, cluster, context["user_id"], view)
        if ticked is None:
            return
        client.views_update(view_id=view["id"], hash=view.get("hash"),
                            view=review_modal(cluster, chorus.settings.policies, chorus.settings.two_person_threshold,
                                              context["page"] or 0, ticked, reason_limit(chorus.desk.enforcer),
                                              chorus.card_options.actions))


def register(app: App) -> None:
    """Wire the review modal's submission and its pages, behind the decision guard."""
    app.view(ids.REVIEW_MODAL, middleware=DECISION_GUARD)(submit_review)
    for action_id in (ids.REVIEW_PAGE_PREVIOUS, ids.REVIEW_PAGE_NEXT):
        app.action(action_id, middleware=DECISION_GUARD)(turn_review_page)
