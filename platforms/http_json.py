"""Any JSON-over-HTTP platform: where the records are, how the cursor moves, and a field map, all configured.

The API is asked for the records after the stored cursor, oldest first; the cursor is the
newest id, the newest timestamp, or an opaque token read from a body field or the Link header.
Actions are a configured method, URL template and body template per action.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from domain.decisions import Action
from domain.models import Post
from domain.records import RecordError, parse_post, parse_time
from platforms.base import (
    DEFAULT_ACCOUNT_ACTIONS,
    MALFORMED_RECORD,
    ActionResult,
    FetchResult,
    Skipped,
    skipped_record,
)
from platforms.enforcing import attempt
from platforms.http import AuthError, HttpClient, PlatformError, RateLimited
from platforms.media import MediaHasher
from platforms.paging import Stall, id_order, newer
from platforms.settings import HttpJsonConfig

log = logging.getLogger(__name__)

POST_FIELDS = (
    "id", "created_at", "text", "author.id", "author.handle", "author.display_name", "author.created_at",
    "author.posts_count", "author.followers_count", "author.following_count", "author.default_avatar",
    "author.url", "media", "urls", "repost_of", "reply_to", "url", "lang",
)  # fmt: skip
"""Every field of the post record (docs/formats.md); the field map says where each is found in a platform record."""
MEDIA_FIELDS = ("url", "sha256", "phash")
TIME_FIELDS = {"created_at", "author.created_at"}


def dig(value: Any, path: str) -> Any:
    """The value at a dotted path (`data.items`, `user.id`, `tags.0`); the whole value for an empty path."""
    for part in path.split(".") if path else ():
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _as_time(value: Any) -> Any:
    """Epoch seconds (or milliseconds) as RFC 3339; anything else unchanged for the record parser to judge."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    return value


def to_record(raw: Any, fields: dict[str, str]) -> dict[str, Any]:
    """Map one platform record onto the post record of docs/formats.md; unmapped fields are read from the same name."""
    if not isinstance(raw, dict):
        raise RecordError(f"a record must be a JSON object, got {type(raw).__name__}")
    record: dict[str, Any] = {"author": {}}
    for name in POST_FIELDS:
        value = dig(raw, fields.get(name, name))
        if name in TIME_FIELDS:
            value = _as_time(value)
        if name == "media" and isinstance(value, list):
            value = [
                {key: dig(item, fields.get(f"media.{key}", key)) for key in MEDIA_FIELDS}
                if isinstance(item, dict)
                else {"url": item}
                for item in value
            ]
        if name.startswith("author."):
            record["author"][name.removeprefix("author.")] = value
        else:
            record[name] = value
    return record


class HttpJsonSource:
    """Posts from a configured JSON endpoint, following its cursor forward."""

    name = "http_json"

    def __init__(self, client: HttpClient, settings: HttpJsonConfig, hasher: MediaHasher | None = None) -> None:
        self.client = client
        self.settings = settings
        self._hasher = hasher
        self._stopped = False
        self._stall = Stall(self.name)

    def fetch(self, cursor: str | None, limit: int) -> FetchResult:
        """Read pages past `cursor` until `limit` records, an empty page, or a rate limit."""
        if self._stopped:
            return FetchResult([], cursor, exhausted=True)
        state = json.loads(cursor) if cursor else {"after": None, "seen": []}
        posts: list[Post] = []
        skipped: list[Skipped] = []
        pages, held, exhausted = 0, None, True
        while len(posts) + len(skipped) < limit:
            try:
                records, token = self._page(state["after"])
            except RateLimited as error:
                log.info("http_json: %s; continuing at the next poll", error)
                held = error
                break
            except AuthError as error:
                self._stopped = True
                notice = f"{error}. Polling http_json is stopped until Chorus restarts."
                return FetchResult(posts, _encode(state), skipped, True, [notice])
            pages += 1
            fresh = [r for r in records if self._is_new(r, state)]
            self._advance(state, fresh, token)
            if not fresh:
                break
            for raw in fresh:
                try:
                    posts.append(self._post(raw))
                except MALFORMED_RECORD as error:
                    skipped.append(skipped_record(f"http_json record {dig(raw, self._id_field())!r}", error))
        else:
            exhausted = False
        notice = self._stall.after_poll(pages > 0, held)
        return FetchResult(posts, _encode(state), skipped, exhausted, [notice] if notice else [])

    def _is_new(self, record: Any, state: dict[str, Any]) -> bool:
        """Whether a record lies past the cursor: APIs that ignore or round the cursor repeat nothing."""
        record_id = str(dig(record, self._id_field()))
        if record_id in state["seen"]:
            return False
        if state["after"] is None or self.settings.cursor == "opaque":
            return True
        if self.settings.cursor == "id":
            return newer(record_id, state["after"])
        return _instant(dig(record, self.settings.fields.get("created_at", "created_at"))) >= _instant(state["after"])

    def _id_field(self) -> str:
        return self.settings.fields.get("id", "id")

    def _page(self, after: str | None) -> tuple[list[Any], str | None]:
        """One page of records after `after`, and the opaque token that follows it (if any)."""
        settings = self.settings
        if settings.cursor == "opaque" and settings.cursor_field == "" and after:
            body, response = self.client.json("GET", after)  # the Link rel="next" URL itself
        else:
            params: dict[str, Any] = {settings.limit_param: settings.page_size}
            if after is not None:
                params[settings.cursor_param] = after
            body, response = self.client.json("GET", settings.posts_path, params=params)
        records = dig(body, settings.records_path)
        if not isinstance(records, list):
            where = settings.records_path or "the top level"
            raise PlatformError(f"http_json: no list of records at {where} of {settings.posts_path}", retryable=True)
        if settings.cursor != "opaque":
            return records, None
        token = dig(body, settings.cursor_field) if settings.cursor_field else response.links.get("next", {}).get("url")
        return records, None if token in (None, "") else str(token)

    def _advance(self, state: dict[str, Any], fresh: list[Any], token: str | None) -> None:
        """Move the cursor past `fresh`, remembering ids at the boundary so overlaps are not repeated."""
        kind = self.settings.cursor
        ids = [str(dig(r, self._id_field())) for r in fresh]
        if kind == "opaque":
            if token and token != state["after"]:
                state["after"], state["seen"] = token, ids
            else:
                state["seen"] = state["seen"] + ids
        elif kind == "id" and fresh:
            state["after"] = max([state["after"], *ids] if state["after"] else ids, key=id_order)
            state["seen"] = []
        elif kind == "timestamp" and fresh:
            time_field = self.settings.fields.get("created_at", "created_at")
            times = {i: dig(r, time_field) for i, r in zip(ids, fresh, strict=True)}
            newest = max(times.values(), key=_instant)
            if state["after"] is not None and _instant(state["after"]) >= _instant(newest):
                state["seen"] = state["seen"] + ids
                return
            state["after"] = newest if isinstance(newest, str) else str(newest)
            state["seen"] = [i for i, t in times.items() if _instant(t) == _instant(newest)]

    def _post(self, raw: Any) -> Post:
        record = to_record(raw, self.settings.fields)
        if self._hasher is not None and isinstance(record["media"], list):
            for item in record["media"]:
                if isinstance(item, dict) and item.get("url") and not item.get("sha256"):
                    item["sha256"], item["phash"] = self._hasher.hashes(item["url"])
        return parse_post(record)


def _instant(value: Any) -> float:
    """A timestamp field as epoch seconds, for comparing cursors."""
    value = _as_time(value)
    try:
        return parse_time(value, "created_at").timestamp()
    except RecordError:
        return float("-inf")


def _encode(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True)


def _fill(template: Any, values: dict[str, str]) -> Any:
    """Replace `{account_id}`, `{reason}`, `{action}`, `{idempotency_key}` in every string of a template."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    return template


class HttpJsonEnforcer:
    """Carries out each action as its configured request; an unconfigured action is reported, not guessed."""

    def __init__(self, client: HttpClient, actions: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.actions = actions
        self.account_actions = DEFAULT_ACCOUNT_ACTIONS | ({Action.LIMIT} if Action.LIMIT in actions else set())
        """Cards offer Limit only when `http_json.actions.limit` is configured."""

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Send the configured request for `action`, with an Idempotency-Key header."""
        spec = self.actions.get(action.value)
        if spec is None:
            detail = f"http_json.actions.{action.value} is not configured, so Chorus cannot {action.value} here"
            return ActionResult(account_id, action, ok=False, detail=detail, unsupported=True)
        values = {"account_id": account_id, "reason": reason, "action": action.value}
        values["idempotency_key"] = idempotency_key
        url = _fill(spec["url"], {name: quote(value, safe="") for name, value in values.items()})
        body = _fill(spec.get("body"), values)

        def send() -> str:
            self.client.request(
                spec.get("method", "POST").upper(), url, json=body, headers={"Idempotency-Key": idempotency_key}
            )
            return f"{action.value} sent"

        return attempt(action, account_id, send)
