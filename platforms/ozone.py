"""Ozone: Bluesky moderation actions as events emitted to a labeler's or PDS operator's Ozone service.

Suspend is a takedown of the account (`#modEventTakedown` on a `repoRef`), require verification a
label on the account (`#modEventLabel`: a labeler cannot take down, it labels), and their undos a
`#modEventReverseTakedown` and the label negated. Each event carries the idempotency key as its
`externalId`, which Ozone refuses to log twice for one subject; before an action whose outcome is
unknown is sent again the account's state is read back (`getRepo`, else `queryStatuses`).
"""

from __future__ import annotations

import logging
from typing import Any

from domain.decisions import Action
from platforms.base import ActionResult, Case
from platforms.enforcing import Unsupported, attempt
from platforms.http import HttpClient, PlatformError

log = logging.getLogger(__name__)

EMIT = "/xrpc/tools.ozone.moderation.emitEvent"
GET_REPO = "/xrpc/tools.ozone.moderation.getRepo"
QUERY_STATUSES = "/xrpc/tools.ozone.moderation.queryStatuses"
DEFS = "tools.ozone.moderation.defs"
ROLE = "the moderator or admin role in Ozone (or the admin password)"
MAX_COMMENT_CHARS = 3000


class NoOzone:
    """The enforcer when no Ozone is configured: every action fails, saying what to set."""

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Refuse, naming the settings that are missing."""
        return ActionResult(account_id, action, ok=False, unsupported=True,
                            detail="no Ozone is configured: set bluesky.ozone_url (or OZONE_URL), "
                                   "OZONE_MODERATOR_DID and OZONE_ADMIN_PASSWORD to act on Bluesky accounts")


def comment(reason: str, case: Case | None) -> str:
    """The event's comment: the cluster, its reasons, and the moderator's own words when given."""
    parts = []
    if case is not None:
        parts.append(f"Chorus cluster {case.cluster_id}")
        if case.reasons:
            parts.append("; ".join(case.reasons))
    if reason:
        parts.append(f"moderator: {reason}")
    return (". ".join(parts) or "Chorus")[:MAX_COMMENT_CHARS]


class OzoneEnforcer:
    """Emits takedown, label and reversal events for accounts (DIDs), and reads their state back."""

    def __init__(self, client: HttpClient, moderator_did: str, verify_label: str,
                 policies: list[str] | None = None) -> None:
        self.client = client
        self.moderator_did = moderator_did
        self.verify_label = verify_label
        self.policies = list(policies or [])[:5]

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Carry out `action` on the account with no cluster named in the comment."""
        return self.act_on_case(action, account_id, reason, idempotency_key, None)

    def act_on_case(self, action: Action, account_id: str, reason: str, idempotency_key: str,
                    case: Case | None) -> ActionResult:
        """Emit the event for `action`; the comment names the cluster and its reasons."""
        return attempt(action, account_id, lambda: self._send(action, account_id, comment(reason, case),
                                                              idempotency_key))

    def in_effect(self, action: Action, account_id: str) -> bool | None:
        """Whether the account already is as `action` leaves it: taken down or not, labelled or not."""
        takendown, labels = self._state(account_id)
        if action in (Action.SUSPEND, Action.UNSUSPEND):
            return None if takendown is None else takendown == (action is Action.SUSPEND)
        if labels is None:
            return None
        return (self.verify_label in labels) == (action is Action.REQUIRE_VERIFICATION)

    def _event(self, action: Action, text: str) -> dict[str, Any]:
        if action is Action.SUSPEND:
            event: dict[str, Any] = {"$type": f"{DEFS}#modEventTakedown", "comment": text,
                                     "acknowledgeAccountSubjects": True}
            if self.policies:
                event["policies"] = self.policies
            return event
        if action is Action.UNSUSPEND:
            return {"$type": f"{DEFS}#modEventReverseTakedown", "comment": text}
        if action is Action.REQUIRE_VERIFICATION:
            return {"$type": f"{DEFS}#modEventLabel", "comment": text, "createLabelVals": [self.verify_label],
                    "negateLabelVals": []}
        if action is Action.LIFT_VERIFICATION:
            return {"$type": f"{DEFS}#modEventLabel", "comment": text, "createLabelVals": [],
                    "negateLabelVals": [self.verify_label]}
        raise Unsupported(f"Ozone has no event for {action}")

    def _send(self, action: Action, did: str, text: str, key: str) -> str:
        if not did.startswith("did:"):
            raise Unsupported(f"{did} is not a Bluesky account (a DID); Ozone acts on DIDs")
        body = {"event": self._event(action, text), "subject": {"$type": "com.atproto.admin.defs#repoRef", "did": did},
                "createdBy": self.moderator_did, "externalId": key, "modTool": {"name": "chorus"}}
        try:
            self.client.request("POST", EMIT, json=body, scope=ROLE)
        except PlatformError as error:
            if error.status != 400:
                raise
            return self._refused(action, did, str(error), body)
        return _DONE[action]

    def _refused(self, action: Action, did: str, said: str, body: dict[str, Any]) -> str:
        """A 400 that may mean the account already is as the action leaves it."""
        if action is Action.SUSPEND and "already taken down" in said:
            return "already taken down in Ozone"
        if action is Action.UNSUSPEND and "not taken down" in said:
            return "not taken down in Ozone (nothing to reverse)"
        if "DuplicateExternalId" in said or "same external ID" in said:
            state = self.in_effect(action, did)
            if state is not False:
                return f"{_DONE[action]} (Ozone already has this event)"
            # an event with this key exists but the account is not as it leaves it: a stale key from an
            # earlier database, or the action was reversed in Ozone since; send it again without the key
            log.warning("ozone: %s on %s: the external id %s is taken but not in effect; sending again without it",
                        action, did, body["externalId"])
            self.client.request("POST", EMIT, json={k: v for k, v in body.items() if k != "externalId"}, scope=ROLE)
            return _DONE[action]
        raise PlatformError(said, status=400)

    def _state(self, did: str) -> tuple[bool | None, set[str] | None]:
        """(taken down, labels in force) of an account; None where Ozone cannot tell."""
        try:
            repo, _ = self.client.json("GET", GET_REPO, params={"did": did}, scope=ROLE)
        except PlatformError as error:
            log.info("ozone: getRepo %s failed (%s); asking queryStatuses", did, error)
            return self._status(did), None
        if not isinstance(repo, dict):
            return None, None
        status = (repo.get("moderation") or {}).get("subjectStatus")
        takendown = bool(status.get("takendown")) if isinstance(status, dict) else False
        labels = {label.get("val") for label in repo.get("labels") or []
                  if isinstance(label, dict) and not label.get("neg")}
        return takendown, labels

    def _status(self, did: str) -> bool | None:
        try:
            body, _ = self.client.json("GET", QUERY_STATUSES, params={"subject": did}, scope=ROLE)
        except PlatformError as error:
            log.warning("ozone: cannot read the state of %s (%s); it will be acted on again", did, error)
            return None
        statuses = body.get("subjectStatuses") if isinstance(body, dict) else None
        if not isinstance(statuses, list):
            return None
        for status in statuses:
            subject = status.get("subject") if isinstance(status, dict) else None
            if isinstance(subject, dict) and subject.get("did") == did and "uri" not in subject:
                return bool(status.get("takendown"))
        return False


_DONE = {
    Action.SUSPEND: "taken down in Ozone",
    Action.UNSUSPEND: "takedown reversed in Ozone",
    Action.REQUIRE_VERIFICATION: "labelled for verification in Ozone",
    Action.LIFT_VERIFICATION: "verification label negated in Ozone",
}
