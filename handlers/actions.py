"""Button listeners on cluster cards: what happens when Suspend all, Approve, Undo... is pressed.

Each listener runs behind `decision_guard` (a moderator, a known cluster), acknowledges first,
then hands the slow work to the decision workflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from handlers import decisions, ids
from handlers.blocks import already_handled, review_modal
from handlers.context import Chorus
from handlers.middleware import Moderators, decision_guard

log = logging.getLogger("chorus.slack")

WHOLE_CLUSTER = {ids.SUSPEND_ALL: "suspend", ids.REQUIRE_VERIFICATION: "require_verification", ids.DISMISS: "dismiss"}
FOLLOW_UPS = {ids.APPROVE: decisions.approve, ids.CANCEL_REQUEST: decisions.cancel, ids.RETRY: decisions.retry,
              ids.UNDO: decisions.undo}


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
            decisions.tell(client, context["cluster"].channel, context["user_id"],
                           f"Chorus could not finish this ({type(error).__name__}). The card shows what was done; "
                           "try again in a moment.")
        except Exception:  # Slack itself may be what failed
            log.warning("could not tell %s that their click failed", context.get("user_id"))


def _whole_cluster(chorus: Chorus, action: str) -> Callable[..., None]:
    def act_on_all(ack: Ack, context: BoltContext, client: WebClient) -> None:
        """Suspend, require verification for, or dismiss every account on the card."""
        ack()
        cluster = context["cluster"]
        with told_if_failed(client, context):
            decisions.decide(chorus, client, cluster, context["user_id"], action, [a.id for a in cluster.accounts])

    return act_on_all


def _follow_up(chorus: Chorus, step: Callable[..., None]) -> Callable[..., None]:
    def on_decision(ack: Ack, context: BoltContext, client: WebClient) -> None:
        """Approve, cancel, retry or undo the decision the button names."""
        ack()
        if context["decision_id"] is not None:
            with told_if_failed(client, context):
                step(chorus, client, context["cluster"], context["decision_id"], context["user_id"])

    return on_decision


def _open_review(chorus: Chorus) -> Callable[..., None]:
    def open_review(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """Open the modal for acting on some of the accounts (the trigger id expires in 3 s)."""
        ack()
        cluster = context["cluster"]
        holder = chorus.store.active_decision(cluster.id)
        if holder is not None:
            decisions.tell(client, cluster.channel, context["user_id"], already_handled(holder))
            return
        client.views_open(trigger_id=body["trigger_id"],
                          view=review_modal(cluster, chorus.settings.policies, chorus.settings.two_person_threshold))

    return open_review


def register(app: App, chorus: Chorus, moderators: Moderators) -> None:
    """Wire every card button to its listener, each behind the decision guard."""
    guard = decision_guard(chorus, moderators)
    for action_id, action in WHOLE_CLUSTER.items():
        app.action(action_id, middleware=guard)(_whole_cluster(chorus, action))
    for action_id, step in FOLLOW_UPS.items():
        app.action(action_id, middleware=guard)(_follow_up(chorus, step))
    app.action(ids.REVIEW, middleware=guard)(_open_review(chorus))
