"""The decision workflow the buttons and the modal share: claim, approve, carry out, stamp the card.

Listeners call these after `ack()`, on Bolt's worker threads, so Slack has its answer within
3 s while the platform calls take as long as they take.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk import WebClient

from domain.views import ClusterView
from handlers.blocks import already_handled, cluster_card, undo_open
from handlers.context import Chorus
from platforms.base import Action

log = logging.getLogger("chorus.slack")


def tell(client: WebClient, channel: str | None, user_id: str, text: str) -> None:
    """An ephemeral note to one user in the card's channel."""
    if channel:
        client.chat_postEphemeral(channel=channel, user=user_id, text=text)


def refresh_card(chorus: Chorus, cluster_id: str) -> bool:
    """Re-render a cluster's card in place from what storage now says; returns whether Slack took it.

    A failed update never stops the decision it reports on: the card stays stale in storage and
    `sync_stale_cards` tries again.
    """
    try:
        return _update_card(chorus, cluster_id)
    except Exception as error:
        log.warning("card of %s not updated, will retry: %s: %s", cluster_id, type(error).__name__, error)
        return False


def _update_card(chorus: Chorus, cluster_id: str) -> bool:
    store = chorus.store
    view = store.cluster_view(cluster_id)
    if not (view and view.channel and view.message_ts):
        return False
    chorus.sender.call("chat.update", channel=view.channel, ts=view.message_ts,
                       **cluster_card(view, store.clock(), chorus.settings.undo_minutes))
    store.mark_card_shown(cluster_id, view.card_version)
    return True


class StaleCards(RuntimeError):
    """Some cards could not be brought up to date; they stay stale and are tried at the next run."""


def sync_stale_cards(chorus: Chorus) -> int:
    """Update every card whose update was lost (a crash before it, or Slack failing); returns how many were.

    Failures are raised together once the others are done, so the job's fault is reported once.
    """
    updated, failures = 0, []
    for cluster_id in chorus.store.stale_cards():
        try:
            updated += _update_card(chorus, cluster_id)
        except Exception as error:  # the next card may go through
            failures.append(f"{cluster_id}: {type(error).__name__}: {error}")
    if updated:
        log.info("updated %d stale cards", updated)
    if failures:
        raise StaleCards(f"{len(failures)} cards could not be updated (first: {failures[0]})")
    return updated


def needs_second_moderator(chorus: Chorus, action: str, accounts: Sequence[str]) -> bool:
    """The two-person rule: suspending more than the threshold at once waits for an approval."""
    return action == Action.SUSPEND and len(accounts) > chorus.settings.two_person_threshold


def decide(chorus: Chorus, client: WebClient, cluster: ClusterView, user_id: str, action: str,
           accounts: Sequence[str], reason: str = "", policy: str = "") -> None:
    """Record a decision if it is the first, then carry it out (or wait for the second moderator)."""
    store = chorus.store
    waits = needs_second_moderator(chorus, action, accounts)
    decision_id = store.claim_decision(cluster.id, action, accounts, user_id, reason, policy,
                                       "awaiting_approval" if waits else "approved")
    if decision_id is None:
        holder = store.active_decision(cluster.id)
        tell(client, cluster.channel, user_id,
             already_handled(holder) if holder else "This cluster was just handled by someone else.")
        return
    refresh_card(chorus, cluster.id)
    if not waits:
        execute(chorus, decision_id, user_id)


def execute(chorus: Chorus, decision_id: int, actor: str, only: Sequence[str] | None = None) -> None:
    """Carry out an approved decision on the platform (or just its `only` accounts) and stamp the card."""
    store = chorus.store
    decision = store.decision(decision_id)
    cluster_id = store.decision_cluster(decision_id)
    if decision is None or cluster_id is None:
        return
    if decision.action == "dismiss":
        store.set_decision_status(decision_id, "done", actor)
    else:
        results = chorus.enforcement.carry_out(decision_id, decision.accounts if only is None else only, actor)
        log.info("decision %d: %s on %d accounts, %d failed", decision_id, decision.action, len(results),
                 sum(not r.ok for r in results))
    refresh_card(chorus, cluster_id)


def approve(chorus: Chorus, client: WebClient, cluster: ClusterView, decision_id: int, user_id: str) -> None:
    """A second moderator's approval; the one who asked cannot approve their own request."""
    store = chorus.store
    decision = store.decision(decision_id)
    if decision and decision.moderator == user_id and decision.status == "awaiting_approval":
        tell(client, cluster.channel, user_id, "You asked for this, so another moderator has to approve it.")
    elif store.approve_decision(decision_id, user_id):
        refresh_card(chorus, cluster.id)
        execute(chorus, decision_id, user_id)
    elif decision:
        tell(client, cluster.channel, user_id, already_handled(decision))


def cancel(chorus: Chorus, client: WebClient, cluster: ClusterView, decision_id: int, user_id: str) -> None:
    """Withdraw a request still waiting for approval; the card offers the buttons again."""
    if chorus.store.cancel_decision(decision_id, user_id):
        refresh_card(chorus, cluster.id)
    else:
        tell(client, cluster.channel, user_id, "That request was already approved or withdrawn.")


def retry(chorus: Chorus, client: WebClient, cluster: ClusterView, decision_id: int, user_id: str) -> None:
    """Run the failed platform actions of a decision again; the idempotency keys stop repeats."""
    store = chorus.store
    decision = store.decision(decision_id)
    if decision is None or not store.claim_retry(decision_id, user_id):
        tell(client, cluster.channel, user_id, "Nothing to retry: the actions already succeeded or are running.")
        return
    refresh_card(chorus, cluster.id)
    execute(chorus, decision_id, user_id, only=list(decision.failures))


def undo(chorus: Chorus, client: WebClient, cluster: ClusterView, decision_id: int, user_id: str) -> None:
    """Reverse a carried-out decision within the undo window and reopen the cluster."""
    store = chorus.store
    decision = store.decision(decision_id)
    if decision is None or not undo_open(decision, store.clock(), chorus.settings.undo_minutes):
        tell(client, cluster.channel, user_id,
             f"Undo is offered for {chorus.settings.undo_minutes:g} minutes after a decision; that time has passed.")
        refresh_card(chorus, cluster.id)
        return
    if not store.claim_undo(decision_id, user_id):
        tell(client, cluster.channel, user_id, "This decision is already being undone.")
        return
    refresh_card(chorus, cluster.id)
    chorus.enforcement.undo(decision_id, user_id)
    refresh_card(chorus, cluster.id)
