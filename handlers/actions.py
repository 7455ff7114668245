"""Button listeners on cluster cards: what happens when Suspend all, Approve, Undo... is pressed.

Each listener runs behind `DECISION_GUARD` (a moderator, a known cluster), acknowledges first, then
turns the click into a call of a decision use case (`service.decisions`) and any refusal into an
ephemeral reply; the card itself is updated by `Cards` when the use case reports a change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain.decisions import Action
from handlers import ids
from handlers.blocks import already_handled, claim_reply, refusal_text, review_modal
from handlers.context import Chorus
from handlers.middleware import DECISION_GUARD
from platforms.base import acts_on_domains, reason_limit
from service import claims, decisions
from service.decisions import Desk, Refusal

log = logging.getLogger("chorus.slack")

WHOLE_CLUSTER = {ids.SUSPEND_ALL: Action.SUSPEND, ids.LIMIT_ALL: Action.LIMIT,
                 ids.REQUIRE_VERIFICATION: Action.REQUIRE_VERIFICATION, ids.DISMISS: Action.DISMISS}
"""The card's buttons that decide on every account of the cluster, and the action each takes."""
ON_DOMAIN = {ids.DOMAIN_LIMIT: Action.DOMAIN_LIMIT, ids.DOMAIN_SUSPEND: Action.DOMAIN_SUSPEND}
"""The card's buttons that act on the remote domain most of its accounts come from."""


def tell(client: WebClient, channel: str | None, user_id: str, text: str) -> None:
    """An ephemeral note to one user in the card's channel."""
    if channel:
        client.chat_postEphemeral(channel=channel, user=user_id, text=text)


@contextmanager
def told_if_failed(client: WebClient, context: BoltContext) -> Iterator[None]:
    """After `ack()`, an error (a locked or full database, Slack failing) is told to the moderator, not swallowed.

    Whatever was recorded before the error stands and is finished on the next start.
    """
    try:
        yield
    except Exception as error:
        log.exception("handling a click by %s failed", context.get("user_id"))
        try:
            tell(client, context["cluster"].channel, context["user_id"],
                 f"Chorus could not finish this ({type(error).__name__}). The card shows what was done; "
                 "try again in a moment.")
        except Exception:  # Slack itself may be what failed
            log.warning("could not tell %s that their click failed", context.get("user_id"))


def answer(client: WebClient, context: BoltContext, refusal: Refusal | None) -> None:
    """Tell the clicking moderator why nothing happened, if nothing did."""
    if refusal is not None:
        chorus: Chorus = context["chorus"]
        tell(client, context["cluster"].channel, context["user_id"],
             refusal_text(refusal, chorus.settings.undo_minutes))


def act_on_whole_cluster(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Suspend, require verification for, or dismiss every account on the card."""
    ack()
    cluster = context["cluster"]
    action = WHOLE_CLUSTER[body["actions"][0]["action_id"]]
    with told_if_failed(client, context):
        answer(client, context, decisions.decide(context["chorus"].desk, cluster.id, context["user_id"], action,
                                                 [a.id for a in cluster.accounts]))


def act_on_remote_domain(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Ask to limit or suspend the remote domain most of the card's accounts come from (as storage says, not the
    button); it waits for a second moderator's approval."""
    ack()
    cluster = context["cluster"]
    chorus: Chorus = context["chorus"]
    if cluster.remote_domain is None or not acts_on_domains(chorus.desk.enforcer):
        tell(client, cluster.channel, context["user_id"], "This cluster's accounts no longer come mostly from one "
             "remote domain the platform can act on, so nothing was done.")
        return
    action = ON_DOMAIN[body["actions"][0]["action_id"]]
    with told_if_failed(client, context):
        answer(client, context, decisions.decide(chorus.desk, cluster.id, context["user_id"], action,
                                                 [cluster.remote_domain.domain]))


def _on_decision(ack: Ack, context: BoltContext, client: WebClient,
                 step: Callable[[Desk, int, str], Refusal | None]) -> None:
    """Acknowledge, then apply `step` to the decision the button names."""
    ack()
    if context["decision_id"] is not None:
        with told_if_failed(client, context):
            answer(client, context, step(context["chorus"].desk, context["decision_id"], context["user_id"]))


def approve_decision(ack: Ack, context: BoltContext, client: WebClient) -> None:
    """A second moderator approves a request waiting for approval; it is then carried out."""
    _on_decision(ack, context, client, decisions.approve)


def cancel_request(ack: Ack, context: BoltContext, client: WebClient) -> None:
    """The request waiting for approval is withdrawn; the card offers the buttons again."""
    _on_decision(ack, context, client, decisions.cancel)


def retry_failed(ack: Ack, context: BoltContext, client: WebClient) -> None:
    """The failed platform actions of a decision are run again."""
    _on_decision(ack, context, client, decisions.retry)


def undo_decision(ack: Ack, context: BoltContext, client: WebClient) -> None:
    """A carried-out decision is reversed within the undo window and the cluster reopened."""
    _on_decision(ack, context, client, decisions.undo)


LATE = {ids.LATE_SUSPEND: Action.SUSPEND, ids.LATE_LIMIT: Action.LIMIT,
        ids.LATE_REQUIRE_VERIFICATION: Action.REQUIRE_VERIFICATION}
"""The buttons under a batch the cluster's decision does not cover, and the action each takes on it."""


def act_on_latecomers(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Suspend, limit, or require verification for a batch in the card's thread: accounts that joined after the
    cluster was decided, posted a known campaign's content, or are its siblings."""
    ack()
    action = LATE[body["actions"][0]["action_id"]]
    with told_if_failed(client, context):
        answer(client, context, decisions.decide_latecomers(context["chorus"].desk, context["cluster"].id,
                                                            context["late_batch"], context["user_id"], action))


FOLLOW_UPS = {ids.APPROVE: approve_decision, ids.CANCEL_REQUEST: cancel_request, ids.RETRY: retry_failed,
              ids.UNDO: undo_decision}


def open_review(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open the modal for acting on some of the accounts (the trigger id expires in 3 s)."""
    ack()
    chorus: Chorus = context["chorus"]
    cluster = context["cluster"]
    holder = chorus.store.active_decision(cluster.id)
    if holder is not None:
        tell(client, cluster.channel, context["user_id"], already_handled(holder))
        return
    client.views_open(trigger_id=body["trigger_id"],
                      view=review_modal(cluster, chorus.settings.policies, chorus.settings.two_person_threshold,
                                        reason_limit=reason_limit(chorus.desk.enforcer),
                                        actions=chorus.card_options.actions))


def claim_cluster(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Claim (or take over) a cluster from its card or from App Home; the card then shows who has it, and a
    moderator who lost a race is told who won: in the channel, or at the top of their Home."""
    ack()
    chorus: Chorus = context["chorus"]
    with told_if_failed(client, context):
        result = claims.claim(chorus.desk, context["cluster"].id, context["user_id"], context["holder_seen"])
        note = claim_reply(result)
        if (body.get("container") or {}).get("type") == "view":
            if chorus.home is not None:
                chorus.home.show(context["user_id"], note or "")
        elif note:
            tell(client, context["cluster"].channel, context["user_id"], note)


def register(app: App) -> None:
    """Wire every card button to its listener, each behind the decision guard."""
    for action_id in WHOLE_CLUSTER:
        app.action(action_id, middleware=DECISION_GUARD)(act_on_whole_cluster)
    for action_id, listener in FOLLOW_UPS.items():
        app.action(action_id, middleware=DECISION_GUARD)(listener)
    app.action(ids.REVIEW, middleware=DECISION_GUARD)(open_review)
    app.action(ids.CLAIM, middleware=DECISION_GUARD)(claim_cluster)
    for action_id in LATE:
        app.action(action_id, middleware=DECISION_GUARD)(act_on_latecomers)
    for action_id in ON_DOMAIN:
        app.action(action_id, middleware=DECISION_GUARD)(act_on_remote_domain)
