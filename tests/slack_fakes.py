"""A fake Slack Web API on 127.0.0.1 and a signed-request client, for offline tests that speak the protocol.

The fake keeps the messages posted to each channel (with their metadata and threads), so
`conversations.history` and `conversations.replies` answer as Slack would, and its gates can
hold a call to mark the bot as inside a step (see tests/gates.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from tests.gates import Gate, Gates


@dataclass
class Call:
    """One Web API request the bot made."""

    method: str
    params: dict[str, Any]
    at: float


class FakeSlack(ThreadingHTTPServer):
    """Records Web API calls and answers like Slack; `script` queues special answers per method."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: list[Call] = []
        self.scripted: dict[str, deque[tuple[int, dict[str, str], dict[str, Any] | str]]] = {}
        self.groups: dict[str, list[str]] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: set[str] = set()
        self.homes: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.gates = Gates()
        self._last_ts = 0.0
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        """The base URL to give the bot as SLACK_API_URL."""
        return f"http://127.0.0.1:{self.server_port}/api/"

    def script(self, method: str, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None):
        """Answer the next call of `method` this way instead of the default."""
        self.scripted.setdefault(method, deque()).append((status, headers or {}, body))

    def hold(self, method: str, after: bool = False, when=lambda params: True, seconds: float = 60.0) -> Gate:
        """Hold the next call of `method` matching `when`: dropped unanswered, or (`after`) carried out first."""
        return self.gates.arm(method, Gate(after=after, when=when, seconds=seconds))

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """The top-level messages in a channel, oldest first."""
        with self.lock:
            return [m for m in self.messages.get(channel, []) if m.get("thread_ts") in (None, m["ts"])]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in a message's thread, oldest first."""
        with self.lock:
            return [m for m in self.messages.get(channel, []) if m.get("thread_ts") == ts and m["ts"] != ts]

    def of(self, method: str) -> list[Call]:
        """The calls of one method so far."""
        with self.lock:
            return [call for call in self.calls if call.method == method]

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        gate = self.gates.take(method, params)
        if gate is not None and not gate.after:
            gate.hold()
            return 503, {}, "<html>the request never reached Slack</html>"
        reply = self._answer(method, params)
        if gate is not None:
            gate.hold()
        return reply

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        with self.lock:
            self.calls.append(Call(method, params, time.monotonic()))
            if self.scripted.get(method):
                return self.scripted[method].popleft()
            if not self._known_files(params):
                return 200, {}, {"ok": False, "error": "invalid_blocks"}
            self._last_ts = max(time.time(), self._last_ts + 0.001)  # Slack's ts: its clock, unique per channel
            ts = f"{self._last_ts:.6f}"
            if method == "chat.postMessage":
                self.messages.setdefault(params.get("channel", ""), []).append({
                    "type": "message", "ts": ts, "text": params.get("text", ""), "blocks": params.get("blocks"),
                    "thread_ts": params.get("thread_ts"), "metadata": params.get("metadata")})
            if method == "chat.update":
                for message in self.messages.get(params.get("channel", ""), []):
                    if message["ts"] == params.get("ts"):
                        message.update(text=params.get("text", ""), blocks=params.get("blocks"))
        if method in ("conversations.history", "conversations.replies"):
            return 200, {}, self._history(method, params)
        if method == "auth.test":
            return 200, {}, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "team": "Mods",
                             "user": "chorus", "url": "https://mods.slack.com/"}
        if method == "chat.postMessage":
            return 200, {}, {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return 200, {}, {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return 200, {}, {"ok": True, "message_ts": ts}
        if method == "views.open":
            return 200, {}, {"ok": True, "view": {"id": "V1"}}
        if method == "views.publish":
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if not 0 < len(view.get("blocks") or []) <= 100:
                return 200, {}, {"ok": False, "error": "invalid_arguments"}
            with self.lock:
                self.homes[params.get("user_id", "")] = view
            return 200, {}, {"ok": True, "view": {**view, "id": "VHOME"}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{ts.replace('.', '')}"
            with self.lock:
                self.files.add(file_id)
            return 200, {}, {"ok": True, "file_id": file_id,
                             "upload_url": f"http://127.0.0.1:{self.server_port}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = json.loads(params["files"])
            return 200, {}, {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "usergroups.users.list":
            users = self.groups.get(params.get("usergroup", ""))
            return 200, {}, {"ok": True, "users": users} if users is not None else {"ok": False,
                                                                                    "error": "no_such_subteam"}
        return 200, {}, {"ok": False, "error": "unknown_method"}

    def _known_files(self, params: dict[str, Any]) -> bool:
        """Whether every image block's `slack_file` names a file uploaded here, as Slack insists."""
        view = params.get("view")
        blocks = params.get("blocks") or (json.loads(view) if isinstance(view, str) else view or {}).get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return all(block.get("slack_file", {}).get("id") in self.files
                   for block in blocks or [] if block.get("type") == "image" and "slack_file" in block)

    def _history(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """A channel's messages (or a thread's) after `oldest`, newest first, paged by `limit` and `cursor`."""
        channel = params.get("channel", "")
        if method == "conversations.history":
            found = self.channel_messages(channel)
        else:
            with self.lock:
                found = [m for m in self.messages.get(channel, []) if m["ts"] == params.get("ts")]
            found += self.thread(channel, params.get("ts", ""))
        oldest = float(params.get("oldest") or 0)
        found = [m for m in reversed(found) if float(m["ts"]) > oldest]
        start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        page = [{k: v for k, v in m.items() if v is not None and (k != "metadata" or with_metadata)}
                for m in found[start:start + limit]]
        more = start + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


class _Handler(BaseHTTPRequestHandler):
    server: FakeSlack

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith("/upload/"):  # the file host of files_upload_v2's second step
            with self.server.lock:
                self.server.uploads[parts.path.removeprefix("/upload/")] = self.rfile.read(
                    int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")
            return
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if raw:
            params |= json.loads(raw) if "json" in (self.headers.get("Content-Type") or "") else dict(parse_qsl(raw))
        status, headers, body = self.server.answer(parts.path.removeprefix("/api/"), params)
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/html")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bot was killed, or timed out, while the reply was held

    do_GET = _handle
    do_POST = _handle


class SlackClient:
    """Sends what Slack sends an app: signed block_actions, view_submission and slash-command requests."""

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.signing_secret = signing_secret

    def signed(self, body: str, timestamp: int | None = None, secret: str | None = None) -> httpx.Response:
        """POST `body` with Slack's v0 signature headers."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new((secret or self.signing_secret).encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        return httpx.post(self.url, content=body, timeout=10, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + digest.hexdigest()})

    @staticmethod
    def click_body(action_id: str, value: str, user: str, message_ts: str, channel: str = "CMOD") -> str:
        """The form body of a block_actions request for one button press on a message."""
        payload = {
            "type": "block_actions", "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "1.2.trigger",
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "channel": {"id": channel, "name": "moderation"}, "message": {"ts": message_ts, "type": "message"},
            "response_url": "https://hooks.slack.invalid/actions/1",
            "actions": [{"type": "button", "action_id": action_id, "block_id": "decide", "value": value,
                         "action_ts": f"{time.time():.6f}"}],  # each real click has its own
        }
        return urlencode({"payload": json.dumps(payload)})

    def click(self, action_id: str, value: str, user: str, message_ts: str) -> httpx.Response:
        """Press a button."""
        return self.signed(self.click_body(action_id, value, user, message_ts))

    def submit(self, view: dict[str, Any], user: str, values: dict[str, Any]) -> httpx.Response:
        """Submit a modal the bot opened, with these state values."""
        payload = {"type": "view_submission", "api_app_id": "A1", "team": {"id": "T1"},
                   "user": {"id": user, "username": user.lower(), "team_id": "T1"},
                   "view": {**view, "id": "V1", "state": {"values": values}}}
        return self.signed(urlencode({"payload": json.dumps(payload)}))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """Deliver an Events API callback (e.g. app_home_opened) as Slack does: signed JSON."""
        body = json.dumps({"token": "unused", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                           "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()), "event": event})
        stamp = str(int(time.time()))
        digest = hmac.new(self.signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        return httpx.post(self.url, content=body, timeout=10, headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + digest.hexdigest()})

    @staticmethod
    def home_opened(user: str, view: dict[str, Any] | None = None) -> dict[str, Any]:
        """The app_home_opened event of a user opening the Home tab (with the Home Slack shows them, if any)."""
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                 "event_ts": f"{time.time():.6f}"}
        return event if view is None else {**event, "view": {**view, "id": "VHOME"}}

    @staticmethod
    def home_click_body(action: dict[str, Any], user: str, view: dict[str, Any]) -> dict[str, Any]:
        """The block_actions payload of a click in a user's Home tab (no channel, no message)."""
        return {"type": "block_actions", "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "1.2.home",
                "user": {"id": user, "username": user.lower(), "team_id": "T1"},
                "container": {"type": "view", "view_id": "VHOME"}, "view": {**view, "id": "VHOME"},
                "actions": [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}]}

    def home_click(self, action: dict[str, Any], user: str, view: dict[str, Any]) -> httpx.Response:
        """Click a button or pick an option in a Home tab the bot published."""
        return self.signed(urlencode({"payload": json.dumps(self.home_click_body(action, user, view))}))

    def command(self, text: str, user: str) -> httpx.Response:
        """Run `/chorus text`."""
        return self.signed(urlencode({"command": "/chorus", "text": text, "user_id": user, "team_id": "T1",
                                      "channel_id": "CMOD", "trigger_id": "1.2.t",
                                      "response_url": "https://hooks.slack.invalid/commands/1"}))


def wait_for(condition: Any, timeout: float = 5.0) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {getattr(condition, '__name__', condition)}")
