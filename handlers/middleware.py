"""Per-listener middleware: load the cluster a button or modal names, and let only moderators through.

Every decision listener runs behind `DECISION_GUARD`, so a handler starts with a known cluster
in `context["cluster"]` and a moderator in `context["user_id"]`; anything else is refused with
an ephemeral reply (an error in the modal for view submissions) and nothing happens. Before any
listener, `ReplayGuard` refuses a signed request seen before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from handlers import ids
from handlers.blocks import not_a_moderator
from handlers.context import Chorus
from storage import Store

log = logging.getLogger("chorus.slack")

SIGNATURE_MAX_AGE_SECONDS = 5 * 60
"""Bolt refuses signatures older than this; a replay guard needs to remember them only this long."""
CLOCK_SKEW_SECONDS = 60


class ReplayGuard(Middleware):
    """Global middleware: a signed request is accepted once; the same signature again is refused with 401.

    Bolt checks the signature and refuses one older than five minutes, but within those minutes a
    captured request (a Suspend click, an Approve) could be sent again. Each signature is kept until
    its timestamp is older than Bolt accepts: in memory, and in the database so that a restart does
    not forget it (a locked database leaves the memory check, so a click still gets its answer).
    Socket Mode requests carry no signature.
    """

    def __init__(self, store: Store, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.now = now
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Refuse a signature seen before; remember this one (a Middleware subclass: no argument injection)."""
        signature = _header(req, "x-slack-signature")
        if not signature:
            return next()
        now = self.now()
        try:
            stamp = float(_header(req, "x-slack-request-timestamp"))
        except ValueError:
            stamp = now
        expires = max(stamp, now) + SIGNATURE_MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS
        with self._lock:
            for seen, until in list(self._seen.items()):
                if until < now:
                    del self._seen[seen]
            fresh = signature not in self._seen
            self._seen.setdefault(signature, expires)
        try:
            fresh = self.store.first_sighting(signature, expires, now) and fresh
        except sqlite3.Error as error:
            log.warning("replay guard: database unavailable (%s); checked against this process's memory only", error)
        if not fresh:
            log.warning("refused a replayed Slack request (signature seen at %s)", stamp)
            return BoltResponse(status=401, body="replayed request")
        return next()


def _header(req: BoltRequest, name: str) -> str:
    values = req.headers.get(name) or []
    return (values[0] if isinstance(values, list | tuple) else str(values)) if values else ""


def refuse(ack: Ack, body: dict[str, Any], client: WebClient, text: str) -> BoltResponse:
    """Acknowledge and tell only the clicking user why nothing happened."""
    if body.get("type") == "view_submission":
        inputs = [block["block_id"] for block in body["view"].get("blocks", []) if block.get("type") == "input"]
        return ack(response_action="errors", errors={(inputs or [ids.POLICY_BLOCK])[0]: text})
    response = ack()
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if channel:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)
    return response


def _cluster_ref(body: dict[str, Any]) -> str:
    if body.get("type") == "view_submission":
        return body["view"].get("private_metadata", "")
    action = (body.get("actions") or [{}])[0]
    return action.get("value", "") if isinstance(action, dict) else ""


def attach(chorus: Chorus) -> Callable[..., None]:
    """Global middleware handing every listener the bot's side (`context["chorus"]`), so listeners are
    plain module-level functions that a test can call with a context of its own."""

    def attach_chorus(context: BoltContext, next: Callable[[], None]) -> None:
        context["chorus"] = chorus
        next()

    return attach_chorus


def require_moderator(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext,
                      next: Callable[[], None]) -> BoltResponse | None:
    """Let only moderators through; anyone else is refused (and audited) with an ephemeral reply."""
    chorus: Chorus = context["chorus"]
    user_id = body["user"]["id"]
    if not chorus.moderators.includes(user_id):
        chorus.store.audit("decision_refused", user_id, why="not a moderator",
                           action_id=(body.get("actions") or [{}])[0].get("action_id"))
        return refuse(ack, body, client, not_a_moderator())
    context["user_id"] = user_id
    next()
    return None


def load_cluster(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext,
                 next: Callable[[], None]) -> BoltResponse | None:
    """Load the cluster (and decision) the button or modal names into the context; refuse and audit a
    value Chorus could not have put there, or one that does not match the card it was pressed on."""
    store = context["chorus"].store
    try:
        ref = ids.parse_button_value(_cluster_ref(body))
    except ValueError:
        ref = ids.ButtonRef("")
    cluster_id, decision_id = ref.cluster_id, ref.decision_id
    cluster = store.cluster_view(cluster_id) if cluster_id else None
    container = body.get("container") or {}
    container_ts = container.get("message_ts")
    decision = store.decision(decision_id) if decision_id is not None else None
    batch_id = ref.late_batch or (decision.late_batch if decision else None)
    expected_ts = cluster.message_ts if cluster else None
    batch_known = True
    if batch_id is not None:  # a button in the thread reply of accounts that joined late: that reply, not the card
        batch = store.late_batch(batch_id)
        batch_known = batch is not None and batch.cluster_id == cluster_id
        if batch_known and batch.message_ts is None and container_ts:  # the first click tells where it is
            batch = store.note_late_reply(batch_id, container.get("channel_id", ""), container_ts)
        expected_ts = batch.message_ts if batch_known and batch else None
    tampered = (
        cluster is None
        or not batch_known
        or (decision_id is not None and store.decision_cluster(decision_id) != cluster_id)
        or (container_ts is not None and expected_ts is not None and container_ts != expected_ts)
    )
    if tampered:
        store.audit("decision_refused", body["user"]["id"], cluster_id=cluster_id or None,
                    why="the button does not match a known cluster card")
        return refuse(ack, body, client, "This card does not match a cluster Chorus knows, so nothing was done.")
    context["cluster"] = cluster
    context["decision_id"] = decision_id
    context["holder_seen"] = ref.holder
    context["page"] = ref.page
    context["late_batch"] = ref.late_batch
    next()
    return None


DECISION_GUARD = [require_moderator, load_cluster]
"""The middleware every decision listener runs behind: a moderator, then a known cluster."""
