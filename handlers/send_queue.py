"""Every message Chorus writes to a channel goes through one queue that behaves as Slack asks.

One lane per channel, each with its own worker, so a channel waiting out a 429 or a burst of cards
never holds up another (calls without a channel, such as views.publish or an upload, get a lane per
method). In a lane, messages go in order, at most one per `interval` seconds (Slack allows about one
a second per channel; views.publish is Tier 4, 100+ a minute), a 429 waits exactly the Retry-After
Slack sent, a 5xx or a dropped connection is retried with exponential backoff, and nothing is
dropped: a message is either sent or its caller is told.

Slack has no idempotency key for chat.postMessage, and a timeout, a 5xx or a crash can hide a
post that went through. A message sent with `post_once` carries a marker in its metadata; after
such an ambiguous failure (or when the caller knows an earlier attempt was cut short) the channel
is searched for the marker first, and the message found is returned instead of posting a copy.
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
MARKER_EVENT = "chorus_message"
"""The metadata event type of messages posted with `post_once`; the marker is its payload's `marker`."""
CLOCK_SKEW_SECONDS = 600.0
"""How far before an earlier attempt the channel is searched, for clocks that disagree with Slack's."""
SEARCH_PAGES = 10
"""Pages of 200 messages searched for an earlier copy; older ones cannot be one."""


class SendQueueClosed(RuntimeError):
    """The queue was closed before a message could be sent; the caller keeps it for the next run."""


@dataclass
class _Outgoing:
    method: str
    payload: dict[str, Any]
    result: Future[Any] = field(default_factory=Future)
    marker: str | None = None
    maybe_posted_since: float | None = None
    """Wall-clock time of the first attempt that may have been posted; None until one might have."""


@dataclass
class _Lane:
    """One channel's queue and the worker that empties it."""

    pending: queue.Queue[_Outgoing | None]
    worker: threading.Thread
    last_sent: float = float("-inf")


class SendQueue:
    """Worker threads, one per channel, that send Web API writes in order, paced, retrying what Slack asks."""

    def __init__(self, client: WebClient, interval: float = 1.0, backoff: float = 1.0) -> None:
        self.client = client
        self.interval = interval
        self.backoff = backoff
        self._lanes: dict[str, _Lane] = {}
        self._lanes_lock = threading.Lock()
        self._refusing = False
        self._closing = threading.Event()

    def submit(self, method: str, **payload: Any) -> Future[Any]:
        """Queue a Web API call (e.g. "chat.postMessage") and return a future of Slack's response."""
        return self._enqueue(_Outgoing(method, payload))

    def call(self, method: str, **payload: Any) -> Any:
        """Queue a call and wait for it: the poller needs a new card's ts before it moves on."""
        return self.submit(method, **payload).result()

    def post_once(self, marker: str, earlier_attempt: float | None = None, **payload: Any) -> Any:
        """chat.postMessage at most once per `marker`, and wait for it; returns Slack's answer or the earlier copy.

        `earlier_attempt` (a Unix time) says a previous attempt began then and may have gone
        through, so the channel is searched before posting. The answer of a message found there
        has `"found": True`.
        """
        payload["metadata"] = {"event_type": MARKER_EVENT, "event_payload": {"marker": marker}}
        return self._enqueue(_Outgoing("chat.postMessage", payload, marker=marker,
                                       maybe_posted_since=earlier_attempt)).result()

    def _enqueue(self, outgoing: _Outgoing) -> Future[Any]:
        key = str(outgoing.payload.get("channel") or outgoing.method)
        with self._lanes_lock:
            if self._refusing:
                raise SendQueueClosed("the Slack send queue is closed")
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(queue.Queue(), threading.Thread(
                    target=self._run, args=(key,), name=f"slack-send-{key}", daemon=True))
                lane.worker.start()
            lane.pending.put(outgoing)
        return outgoing.result

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued (giving up after `timeout` in all), then stop the workers."""
        with self._lanes_lock:
            self._refusing = True
            lanes = list(self._lanes.values())
            for lane in lanes:
                lane.pending.put(None)
        deadline = time.monotonic() + timeout
        for lane in lanes:
            lane.worker.join(max(0.0, deadline - time.monotonic()))
        self._closing.set()
        for lane in lanes:
            lane.worker.join()

    def _run(self, key: str) -> None:
        lane = self._lanes[key]
        while (outgoing := lane.pending.get()) is not None:
            if self._closing.is_set():
                outgoing.result.set_exception(SendQueueClosed(f"{outgoing.method} not sent: shutting down"))
                continue
            try:
                outgoing.result.set_result(self._send(outgoing, lane))
            except Exception as error:  # the caller decides; the worker must keep serving others
                outgoing.result.set_exception(error)

    def _send(self, outgoing: _Outgoing, lane: _Lane) -> Any:
        channel = str(outgoing.payload.get("channel", ""))
        failures = 0
        while True:
            if outgoing.maybe_posted_since is not None:
                try:
                    earlier = self._find_earlier_copy(outgoing)
                except SlackApiError as error:
                    delay = self._retry_delay(error.response, failures)
                    if delay is None:
                        log.warning("cannot look for an earlier copy of %s in %s (%s; the app needs the "
                                    "channels:history or groups:history scope): posting it, perhaps twice",
                                    outgoing.marker, channel, error.response.get("error"))
                        outgoing.maybe_posted_since = None
                        continue
                except (URLError, ConnectionError, TimeoutError) as error:
                    delay = min(self.backoff * 2 ** failures, MAX_BACKOFF_SECONDS)
                    log.warning("looking for %s in %s: %s", outgoing.marker, channel, error)
                else:
                    if earlier is not None:
                        log.info("%s is already in %s (ts %s): not posted again", outgoing.marker, channel,
                                 earlier["ts"])
                        return earlier
                    outgoing.maybe_posted_since = None
                    continue
            else:
                pause = lane.last_sent + self.interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                attempted_at = time.time()
                try:
                    if outgoing.method == UPLOAD:
                        return self.client.files_upload_v2(**outgoing.payload)
                    return self.client.api_call(outgoing.method, json=outgoing.payload)
                except SlackApiError as error:
                    delay = self._retry_delay(error.response, failures)
                    if delay is None:
                        raise
                    if error.response.status_code >= 500:
                        self._maybe_posted(outgoing, attempted_at)
                except (URLError, ConnectionError, TimeoutError) as error:
                    delay = min(self.backoff * 2 ** failures, MAX_BACKOFF_SECONDS)
                    log.warning("%s to %s: %s", outgoing.method, channel, error)
                    self._maybe_posted(outgoing, attempted_at)
                finally:
                    lane.last_sent = time.monotonic()
            failures += 1
            log.warning("%s to %s: retrying in %.2fs (attempt %d)", outgoing.method, channel, delay, failures + 1)
            if self._closing.wait(delay):
                raise SendQueueClosed(f"{outgoing.method} not sent: shutting down")

    @staticmethod
    def _maybe_posted(outgoing: _Outgoing, attempted_at: float) -> None:
        """After a failure that does not say whether Slack posted the message, look before posting again."""
        if outgoing.marker is not None and outgoing.maybe_posted_since is None:
            outgoing.maybe_posted_since = attempted_at

    def _find_earlier_copy(self, outgoing: _Outgoing) -> dict[str, Any] | None:
        """The channel's (or thread's) message carrying the outgoing marker, posted since the earlier attempt."""
        channel = outgoing.payload["channel"]
        thread_ts = outgoing.payload.get("thread_ts")
        oldest = f"{max(0.0, (outgoing.maybe_posted_since or 0.0) - CLOCK_SKEW_SECONDS):.6f}"
        cursor = None
        for _ in range(SEARCH_PAGES):
            if thread_ts:
                page = self.client.conversations_replies(channel=channel, ts=thread_ts, oldest=oldest, limit=200,
                                                         include_all_metadata=True, cursor=cursor)
            else:
                page = self.client.conversations_history(channel=channel, oldest=oldest, limit=200,
                                                         include_all_metadata=True, cursor=cursor)
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (metadata.get("event_type") == MARKER_EVENT
                        and (metadata.get("event_payload") or {}).get("marker") == outgoing.marker):
                    return {"ok": True, "channel": channel, "ts": message["ts"], "found": True}
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

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
