"""The HTTP behaviour every platform adapter shares: timeouts, retries, rate limits, clear errors.

Written once so Mastodon, Discourse and generic JSON adapters all survive the same failures the
same way. Time is read and waited through injected callables so tests never really sleep.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpSettings:
    """The `[http]` section: how patient every adapter is with its platform."""

    timeout_seconds: float = 15.0
    retries: int = 4
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_wait_seconds: float = 120.0
    """The longest one call sleeps for a rate limit; a longer wait ends the call instead."""
    max_image_bytes: int = 5_000_000
    max_response_bytes: int = 20_000_000
    """A reply larger than this is refused unread: a hostile or broken platform cannot exhaust memory."""


class PlatformError(Exception):
    """A platform call that failed; the message is written for the moderators' card and the log."""

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None, said: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.said = said
        """The platform's own sentence about it (its `error`, `errors` or `message`), when it gave one."""


class AuthError(PlatformError):
    """401/403: the token is missing, wrong, or lacks a scope; retrying cannot help."""


class RateLimited(PlatformError):
    """The platform (or our own request budget) says wait; `wait_seconds` says how long."""

    def __init__(self, message: str, wait_seconds: float) -> None:
        super().__init__(message, retryable=True, status=429)
        self.wait_seconds = wait_seconds


READING_SHARE = 0.5
"""The share of a request budget kept for reading posts: account lookups never spend it, so they cannot
stop new posts from arriving however many authors a poll brings."""


class RequestBudget:
    """At most `limit` requests per sliding `window_seconds`, so polling stays inside the platform's limits.

    `reserve` requests of every window are kept for reading posts: a lookup may spend only what is left above them.
    """

    def __init__(self, limit: int, window_seconds: float, now: Callable[[], float] = time.time,
                 reading_share: float = READING_SHARE) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.reserve = math.ceil(limit * reading_share)
        self._now = now
        self._spent: deque[float] = deque()
        self._lock = threading.Lock()

    def spend(self, keep: int = 0) -> None:
        """Count one request, or raise `RateLimited` when it would leave fewer than `keep` of the window's requests
        (thread-safe: Bluesky's profile lookups spend from several threads)."""
        with self._lock:
            self._spend(keep)

    def _spend(self, keep: int) -> None:
        now = self._now()
        while self._spent and self._spent[0] <= now - self.window_seconds:
            self._spent.popleft()
        if len(self._spent) + keep >= self.limit:
            # the request that must leave the window before this one may go (none: it never may)
            frees = len(self._spent) + keep - self.limit
            wait = self._spent[frees] + self.window_seconds - now if frees < len(self._spent) else self.window_seconds
            kept = f" ({keep} are kept for reading posts)" if keep else ""
            raise RateLimited(
                f"request budget of {self.limit} per {self.window_seconds:.0f} s is spent{kept}; "
                f"the next request is possible in {wait:.0f} s",
                wait,
            )
        self._spent.append(now)


def _seconds_until(value: str, now: float) -> float | None:
    """Seconds from `now` until a header's time: delta seconds, an HTTP date, or ISO 8601 (Mastodon)."""
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            return max(0.0, parse(value).timestamp() - now)
        except (TypeError, ValueError):
            continue
    return None


def error_text(response: httpx.Response) -> str:
    """The platform's own error sentence, else the body's start.

    Mastodon says `error`; Discourse `errors` (a list) or, refusing a state change, `message`; APIs
    following RFC 9457 (problem details) `detail` or `title`.
    """
    try:
        body = orjson.loads(response.content)
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            # XRPC (Bluesky, Ozone) names the error and explains it in `message`
            message = body.get("message")
            return f"{body['error']}: {message}" if isinstance(message, str) and message else body["error"]
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(item) for item in errors)
        for key in ("error", "message", "detail", "title"):
            if isinstance(body.get(key), str) and body[key].strip():
                return body[key].strip()
    return response.text[:200].strip()


class HttpClient:
    """An httpx client that retries what is worth retrying and explains what is not."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        settings: HttpSettings,
        *,
        headers: Mapping[str, str] | None = None,
        budget: RequestBudget | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.platform = platform
        self.settings = settings
        self._budget = budget
        self._now = now
        self._sleep = sleep
        self._blocked_until = 0.0
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers or {}),
            timeout=settings.timeout_seconds,
            follow_redirects=True,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def request(self, method: str, url: str, *, scope: str = "", lookup: bool = False, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying connection errors, timeouts, 5xx and 429; `scope` names what 403 lacks.

        A `lookup` (of an account's facts) spends only the budget above its share kept for reading
        posts, and gives way to a rate limit at once (`RateLimited`) instead of waiting for it.
        """
        where = f"{self.platform} {method} {httpx.URL(url).path}"
        problem = ""
        for attempt in range(self.settings.retries + 1):
            if attempt and problem != "429 Too Many Requests":
                self._back_off(attempt, where, problem)
            self._wait_for_rate_limit(where, patient=not lookup)
            if self._budget is not None:
                self._budget.spend(keep=self._budget.reserve if lookup else 0)
            try:
                response = self._bounded(self._http.build_request(method, url, **kwargs), where)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                continue
            self._note_rate_limit(response)
            if response.status_code == 429:
                problem = "429 Too Many Requests"
                if lookup:
                    raise RateLimited(f"{where} was rate limited ({error_text(response)})",
                                      max(0.0, self._blocked_until - self._now()))
                continue
            if response.status_code >= 500:
                problem = f"{response.status_code} {response.reason_phrase}: {error_text(response)}"
                continue
            if response.status_code in (401, 403):
                raise AuthError(self._auth_message(where, response, scope), status=response.status_code,
                                said=error_text(response))
            if response.status_code >= 400:
                said = error_text(response)
                raise PlatformError(f"{where} was refused ({response.status_code}): {said}",
                                    status=response.status_code, said=said)
            return response
        raise PlatformError(
            f"{where} failed after {self.settings.retries + 1} attempts; last problem: {problem}",
            retryable=True,
        )

    def _bounded(self, request: httpx.Request, where: str) -> httpx.Response:
        """Send `request` and read at most `max_response_bytes` of the reply; a larger one is a PlatformError."""
        limit = self.settings.max_response_bytes
        response = self._http.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            body = bytearray()
            if not (declared.isdigit() and int(declared) > limit):
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        break
            if len(body) > limit or (declared.isdigit() and int(declared) > limit):
                raise PlatformError(f"{where} returned more than {limit:,} bytes; the reply was refused unread")
        finally:
            response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body), request=request)

    def json(self, method: str, url: str, *, scope: str = "", lookup: bool = False,
             **kwargs: Any) -> tuple[Any, httpx.Response]:
        """Send a request and decode its JSON body, naming the endpoint when the body is not JSON.

        orjson refuses nesting deeper than 1024 levels with an error, where the standard library
        would overflow the stack on a hostile reply.
        """
        response = self.request(method, url, scope=scope, lookup=lookup, **kwargs)
        try:
            return orjson.loads(response.content), response
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise PlatformError(
                f"{self.platform} {method} {httpx.URL(url).path} returned malformed JSON "
                f"({kind}), starting {response.text[:80]!r}",
                retryable=True,
            ) from None

    def _auth_message(self, where: str, response: httpx.Response, scope: str) -> str:
        said = error_text(response)
        if response.status_code == 401:
            return f"{where} was refused (401 {said}): the access token is missing, wrong or revoked"
        needs = f"; it needs {scope}" if scope else ""
        return f"{where} was refused (403 {said}): the token lacks the permission{needs}"

    def _back_off(self, attempt: int, where: str, problem: str) -> None:
        delay = min(self.settings.backoff_max_seconds, self.settings.backoff_seconds * 2 ** (attempt - 1))
        delay *= random.uniform(0.5, 1.0)
        log.warning("%s: %s; retry %d in %.1f s", where, problem, attempt, delay)
        self._sleep(delay)

    def _wait_for_rate_limit(self, where: str, patient: bool = True) -> None:
        wait = self._blocked_until - self._now()
        if wait <= 0:
            return
        if wait > self.settings.max_wait_seconds or not patient:
            raise RateLimited(f"{where}: rate limited by {self.platform} for another {wait:.0f} s", wait)
        log.info("%s: rate limited, waiting %.1f s", where, wait)
        self._sleep(wait)

    def _note_rate_limit(self, response: httpx.Response) -> None:
        """Remember when the platform lets us in again: after a 429, or when no requests remain."""
        headers = response.headers
        exhausted = response.status_code == 429 or headers.get("x-ratelimit-remaining", "").strip() == "0"
        if not exhausted:
            return
        now = self._now()
        wait = None
        for name in ("retry-after", "x-ratelimit-reset"):
            if name in headers:
                wait = _seconds_until(headers[name], now)
                if wait is not None:
                    break
        if wait is None:
            wait = self.settings.backoff_seconds
        self._blocked_until = max(self._blocked_until, now + wait)
