"""Every message Chorus writes to a channel goes through one queue that behaves as Slack asks.

At most one message per `interval` seconds per channel (Slack allows about one a second), a 429
waits exactly the Retry-After Slack sent, a 5xx or a dropped connection is retried with
exponential backoff, and nothing is dropped: a message is either sent or its caller is told.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

log = logging.getLogger("chorus.slack.send")

MAX_BACKOFF_SECONDS = 60.0
UPLOAD = "files_upload_v2"
"""Not a Web API method but slack_sdk's three-step upload; queued like one so it is paced and retried."""


class SendQueueClosed(RuntimeError):
    """The queue was closed before a message could be sent; the caller keeps it for the next run."""


@dataclass
class _Outgoing:
    method: str
    payload: dict[str, Any]
    result: Future[SlackResponse] = field(default_factory=Future)


class SendQueue:
    """A worker thread that sends Web API writes in order, paced per channel, retrying what Slack asks."""

    def __init__(self, client: WebClient, interval: float = 1.0, backoff: float = 1.0) -> None:
        self.client = client
        self.interval = interval
        self.backoff = backoff
        self._pending: queue.Queue[_Outgoing | None] = queue.Queue()
        self._last_sent: dict[str, float] = {}
        self._closing = threading.Event()
        self._worker = threading.Thread(target=self._run, name="slack-send-queue", daemon=True)
        self._worker.start()

    def submit(self, method: str, **payload: Any) -> Future[SlackResponse]:
        """Queue a Web API call (e.g. "chat.postMessage") and return a future of Slack's response."""
        if self._closing.is_set():
            raise SendQueueClosed("the Slack send queue is closed")
        outgoing = _Outgoing(method, payload)
        self._pending.put(outgoing)
        return outgoing.result

    def call(self, method: str, **payload: Any) -> SlackResponse:
        """Queue a call and wait for it: the poller needs a new card's ts before it moves on."""
        return self.submit(method, **payload).result()

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued (giving up after `timeout`), then stop the worker."""
        self._pending.put(None)
        self._worker.join(timeout)
        self._closing.set()
        self._worker.join()

    def _run(self) -> None:
        while (outgoing := self._pending.get()) is not None:
            if self._closing.is_set():
                outgoing.result.set_exception(SendQueueClosed(f"{outgoing.method} not sent: shutting down"))
                continue
            try:
                outgoing.result.set_result(self._send(outgoing))
            except Exception as error:  # the caller decides; the worker must keep serving others
                outgoing.result.set_exception(error)

    def _send(self, outgoing: _Outgoing) -> SlackResponse:
        channel = str(outgoing.payload.get("channel", ""))
        failures = 0
        while True:
            pause = self._last_sent.get(channel, float("-inf")) + self.interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                if outgoing.method == UPLOAD:
                    return self.client.files_upload_v2(**outgoing.payload)
                return self.client.api_call(outgoing.method, json=outgoing.payload)
            except SlackApiError as error:
                delay = self._retry_delay(error.response, failures)
                if delay is None:
                    raise
            except (URLError, ConnectionError, TimeoutError) as error:
                delay = min(self.backoff * 2 ** failures, MAX_BACKOFF_SECONDS)
                log.warning("%s to %s: %s", outgoing.method, channel, error)
            finally:
                self._last_sent[channel] = time.monotonic()
            failures += 1
            log.warning("%s to %s: retrying in %.2fs (attempt %d)", outgoing.method, channel, delay, failures + 1)
            if self._closing.wait(delay):
                raise SendQueueClosed(f"{outgoing.method} not sent: shutting down")

    def _retry_delay(self, response: SlackResponse, failures: int) -> float | None:
        """How long to wait before retrying, or None when retrying cannot help (e.g. channel_not_found)."""
        status = response.status_code
        if status == 429:
            headers = {key.lower(): value for key, value in (response.headers or {}).items()}
            retry_after = headers.get("retry-after", "1")
            return float(retry_after[0] if isinstance(retry_after, list) else retry_after)
        if status >= 500:
            return min(self.backoff * 2 ** failures, MAX_BACKOFF_SECONDS)
        return None
