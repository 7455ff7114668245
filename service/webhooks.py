"""Mastodon's admin webhooks, pushed to `POST /mastodon/webhook` on the bot's HTTP port: `status.created` posts
go into the same pipeline as polled ones within seconds, `account.created` gives a new account's exact creation
time and sign-up details without a lookup.

Each delivery is checked before anything is kept: the `X-Hub-Signature: sha256=<hex>` header must be the
HMAC-SHA256 of the raw body with MASTODON_WEBHOOK_SECRET, the event no older than `mastodon.webhook_max_age_seconds`,
and the delivery not seen before; anything else gets 401 and changes nothing. A delivery's posts are stored in
the same transaction that records it as seen, so one that failed half-way is accepted when Mastodon retries it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from domain.admin import SignUp
from domain.models import Post
from domain.records import RecordError, parse_time
from platforms.base import MALFORMED_RECORD
from service.poller import Poller
from storage import Store

log = logging.getLogger("chorus.webhooks")

WEBHOOK_PATH = "/mastodon/webhook"
MAX_BODY_BYTES = 1_000_000
"""A delivery larger than this is refused unread: a status with its account is a few kilobytes."""
CLOCK_SKEW_SECONDS = 300
"""How far in the future an event's time may be (the two clocks differ)."""


class Refused(Exception):
    """A delivery that is not taken: its HTTP status and the reason, for the log (the sender sees only the status)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class PushedStatuses(Protocol):
    """What the webhook receiver asks of the Mastodon source: whether a pushed status belongs to the polled timeline,
    the status as a post, and a new account's admin record taken in."""

    def wants_pushed(self, status: dict[str, Any]) -> bool: ...

    def to_post(self, record: dict[str, Any]) -> Post: ...

    def learn_sign_up(self, record: dict[str, Any]) -> SignUp | None: ...


def signature_of(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` value Mastodon sends for `body`: `sha256=` and the hex HMAC-SHA256 with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class MastodonWebhooks:
    """Receives webhook deliveries: verifies, refuses stale and replayed ones, and feeds the poller."""

    secret: str
    store: Store
    poller: Poller
    source: PushedStatuses
    max_age_seconds: float
    now: Callable[[], float] = time.time

    def receive(self, body: bytes, signature: str) -> str:
        """Take one delivery; returns what was done, or raises `Refused`."""
        if not hmac.compare_digest(signature.strip().encode(), signature_of(self.secret, body).encode()):
            raise Refused(401, "the X-Hub-Signature does not match the body and MASTODON_WEBHOOK_SECRET")
        try:
            event = orjson.loads(body)
            kind, payload = str(event["event"]), event["object"]
            sent = parse_time(event.get("created_at"), "created_at").timestamp()
        except (ValueError, TypeError, KeyError, RecordError):
            raise Refused(400, "not a Mastodon webhook event (event, created_at, object)") from None
        now = self.now()
        if now - sent > self.max_age_seconds or sent - now > CLOCK_SKEW_SECONDS:
            raise Refused(401, f"the event is {now - sent:.0f} s old: stale or replayed")
        expires = sent + self.max_age_seconds + CLOCK_SKEW_SECONDS
        with self.store.atomic():
            if not self.store.first_sighting("mastodon-webhook:" + signature.strip(), expires, now):
                raise Refused(401, "a delivery seen before: replayed")
            return self._take(kind, payload)

    def _take(self, kind: str, payload: Any) -> str:
        if kind == "status.created":
            if not isinstance(payload, dict) or not self.source.wants_pushed(payload):
                return "status not in the polled timeline: ignored"
            try:
                post = self.source.to_post(payload)
            except MALFORMED_RECORD as error:
                raise Refused(400, f"a status Chorus cannot read: {error}") from None
            new = self.poller.push([post])
            return f"status {post.id} {'stored' if new else 'already stored'}"
        if kind == "account.created":
            sign_up = self.source.learn_sign_up(payload) if isinstance(payload, dict) else None
            return f"account {sign_up.account_id} noted" if sign_up else "remote or unreadable account: ignored"
        return f"{kind}: not used"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI endpoint: POST only; the answer's status says taken (200) or refused (4xx)."""
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 405, "POST only")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            return _answer(start_response, 413, "too large")
        body = environ["wsgi.input"].read(length)
        try:
            done = self.receive(body, environ.get("HTTP_X_HUB_SIGNATURE", ""))
        except Refused as refusal:
            log.warning("mastodon webhook refused (%d): %s", refusal.status, refusal)
            return _answer(start_response, refusal.status, "refused")
        except Exception as error:  # a locked database: Mastodon retries the delivery, and the poll catches up
            log.error("mastodon webhook not taken: %s: %s", type(error).__name__, error)
            return _answer(start_response, 503, "try again")
        log.debug("mastodon webhook: %s", done)
        return _answer(start_response, 200, "ok")


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed", 413: "Payload Too Large",
           503: "Service Unavailable"}


def _answer(start_response: Callable[..., Any], status: int, text: str) -> list[bytes]:
    start_response(f"{status} {REASONS[status]}", [("Content-Type", "text/plain")])
    return [text.encode() + b"\n"]
