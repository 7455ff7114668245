"""A fake Slack on 127.0.0.1 for offline tests that speak the protocol: the Web API over HTTP, Socket Mode
over a real WebSocket, and clients that send what Slack sends an app in either mode.

The fake Web API keeps the messages posted to each channel (with their metadata and threads), so
`conversations.history` and `conversations.replies` answer as Slack would, and its gates can
hold a call to mark the bot as inside a step (see tests/gates.py). `FakeSocketMode` is Slack's end
of Socket Mode as docs.slack.dev describes it: apps.connections.open hands out its ws:// URL, each
connection is greeted with `hello`, requests go out in envelopes that the app must acknowledge with
their `envelope_id` (an acknowledgement may carry a response payload), and `disconnect` (or a closed
socket) makes the app fetch a new URL and connect again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.gates import Gate, Gates


@dataclass
class Call:
    """One Web API request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    token: str = ""
    """The bearer token it carried (the bot token, or for apps.connections.open the app-level token)."""


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
        self.socket_url = ""
        """What apps.connections.open answers: a `FakeSocketMode`'s URL once one runs."""
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

    def answer(self, method: str, params: dict[str, Any], token: str = "") -> tuple[int, dict[str, str],
                                                                                   dict[str, Any] | str]:
        gate = self.gates.take(method, params)
        if gate is not None and not gate.after:
            gate.hold()
            return 503, {}, "<html>the request never reached Slack</html>"
        reply = self._answer(method, params, token)
        if gate is not None:
            gate.hold()
        return reply

    def _answer(self, method: str, params: dict[str, Any], token: str) -> tuple[int, dict[str, str],
                                                                              dict[str, Any] | str]:
        with self.lock:
            self.calls.append(Call(method, params, time.monotonic(), token))
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
        if method == "apps.connections.open":
            if not token.startswith("xapp-") or not self.socket_url:
                return 200, {}, {"ok": False, "error": "invalid_auth" if self.socket_url else "not_allowed"}
            return 200, {}, {"ok": True, "url": self.socket_url}
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
        if method == "views.update":
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return 200, {}, {"ok": True, "view": {**view, "id": params.get("view_id")}}
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
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        status, headers, body = self.server.answer(parts.path.removeprefix("/api/"), params, token)
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


class SlackPayloads:
    """What Slack sends an app, as Python values: the same in HTTP mode (signed, form-encoded or JSON) and in
    Socket Mode (inside an envelope)."""

    @staticmethod
    def click_payload(action_id: str, value: str, user: str, message_ts: str, channel: str = "CMOD") -> dict:
        """A block_actions payload for one button press on a message."""
        return {
            "type": "block_actions", "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "1.2.trigger",
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "channel": {"id": channel, "name": "moderation"}, "message": {"ts": message_ts, "type": "message"},
            "response_url": "https://hooks.slack.invalid/actions/1",
            "actions": [{"type": "button", "action_id": action_id, "block_id": "decide", "value": value,
                         "action_ts": f"{time.time():.6f}"}],  # each real click has its own
        }

    @staticmethod
    def submit_payload(view: dict[str, Any], user: str, values: dict[str, Any]) -> dict:
        """A view_submission payload of a modal the bot opened, with these state values."""
        return {"type": "view_submission", "api_app_id": "A1", "team": {"id": "T1"},
                "user": {"id": user, "username": user.lower(), "team_id": "T1"},
                "view": {**view, "id": "V1", "state": {"values": values}}}

    @staticmethod
    def modal_click_payload(action: dict[str, Any], user: str, view: dict[str, Any],
                            values: dict[str, Any]) -> dict[str, Any]:
        """The block_actions payload of a button pressed in an open modal, with what is filled in so far."""
        return {"type": "block_actions", "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "1.2.modal",
                "user": {"id": user, "username": user.lower(), "team_id": "T1"},
                "container": {"type": "view", "view_id": "V1"},
                "view": {**view, "id": "V1", "hash": "h1", "state": {"values": values}},
                "actions": [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}]}

    @staticmethod
    def command_fields(text: str, user: str) -> dict[str, str]:
        """The fields of a `/chorus text` slash command."""
        return {"command": "/chorus", "text": text, "user_id": user, "team_id": "T1", "channel_id": "CMOD",
                "trigger_id": "1.2.t", "response_url": "https://hooks.slack.invalid/commands/1"}

    @staticmethod
    def event_callback(event: dict[str, Any]) -> dict:
        """An Events API callback wrapping `event`."""
        return {"token": "unused", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()), "event": event}

    @staticmethod
    def home_opened(user: str, view: dict[str, Any] | None = None) -> dict[str, Any]:
        """The app_home_opened event of a user opening the Home tab (with the Home Slack shows them, if any)."""
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                 "event_ts": f"{time.time():.6f}"}
        return event if view is None else {**event, "view": {**view, "id": "VHOME"}}

    @staticmethod
    def home_click_payload(action: dict[str, Any], user: str, view: dict[str, Any]) -> dict[str, Any]:
        """The block_actions payload of a click in a user's Home tab (no channel, no message)."""
        return {"type": "block_actions", "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": "1.2.home",
                "user": {"id": user, "username": user.lower(), "team_id": "T1"},
                "container": {"type": "view", "view_id": "VHOME"}, "view": {**view, "id": "VHOME"},
                "actions": [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}]}


class SlackClient(SlackPayloads):
    """Sends what Slack sends an app in HTTP mode: signed requests to the bot's /slack/events."""

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.signing_secret = signing_secret

    def signed(self, body: str, timestamp: int | None = None, secret: str | None = None,
               content_type: str = "application/x-www-form-urlencoded") -> httpx.Response:
        """POST `body` with Slack's v0 signature headers."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new((secret or self.signing_secret).encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        return httpx.post(self.url, content=body, timeout=10, headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + digest.hexdigest()})

    @classmethod
    def click_body(cls, action_id: str, value: str, user: str, message_ts: str, channel: str = "CMOD") -> str:
        """The form body of a block_actions request for one button press on a message."""
        return urlencode({"payload": json.dumps(cls.click_payload(action_id, value, user, message_ts, channel))})

    def click(self, action_id: str, value: str, user: str, message_ts: str) -> httpx.Response:
        """Press a button."""
        return self.signed(self.click_body(action_id, value, user, message_ts))

    def submit(self, view: dict[str, Any], user: str, values: dict[str, Any]) -> httpx.Response:
        """Submit a modal the bot opened, with these state values."""
        return self.signed(urlencode({"payload": json.dumps(self.submit_payload(view, user, values))}))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """Deliver an Events API callback (e.g. app_home_opened) as Slack does: signed JSON."""
        return self.signed(json.dumps(self.event_callback(event)), content_type="application/json")

    def home_click(self, action: dict[str, Any], user: str, view: dict[str, Any]) -> httpx.Response:
        """Click a button or pick an option in a Home tab the bot published."""
        return self.signed(urlencode({"payload": json.dumps(self.home_click_payload(action, user, view))}))

    def modal_click(self, action: dict[str, Any], user: str, view: dict[str, Any],
                    values: dict[str, Any]) -> httpx.Response:
        """Press a button in a modal the bot opened."""
        return self.signed(urlencode({"payload": json.dumps(self.modal_click_payload(action, user, view, values))}))

    def command(self, text: str, user: str) -> httpx.Response:
        """Run `/chorus text`."""
        return self.signed(urlencode(self.command_fields(text, user)))


class FakeSocketMode:
    """Slack's end of Socket Mode on 127.0.0.1, announced through `fake_slack`'s apps.connections.open."""

    def __init__(self, fake_slack: FakeSlack) -> None:
        self.server: Server = serve(self._session, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.connections: list[ServerConnection] = []
        self.hellos = 0
        self.acks: dict[str, dict[str, Any]] = {}
        self._acked = threading.Condition()
        self._tickets = 0
        self.fake_slack = fake_slack
        self.renew()
        threading.Thread(target=self.server.serve_forever, name="fake-socket-mode", daemon=True).start()

    def renew(self) -> None:
        """Issue the next URL (Slack's URLs carry a ticket and change at each apps.connections.open)."""
        self._tickets += 1
        self.fake_slack.socket_url = f"ws://127.0.0.1:{self.port}/link/?ticket={self._tickets}&app_id=A1"

    def _session(self, connection: ServerConnection) -> None:
        """One app connection: hello, then read acknowledgements until it closes."""
        with self._acked:
            self.connections.append(connection)
            self.hellos += 1
            self._acked.notify_all()
        self.renew()
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A1"},
                                    "debug_info": {"host": "fake-socket-mode", "build_number": 1,
                                                   "approximate_connection_time": 18060}}))
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._acked:
                    self.acks[message["envelope_id"]] = message
                    self._acked.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._acked:
                self.connections.remove(connection)
                self._acked.notify_all()

    def connected(self, hellos: int = 1, timeout: float = 10.0) -> ServerConnection:
        """The live connection once `hellos` connections were greeted; fail the test after `timeout`."""
        with self._acked:
            if not self._acked.wait_for(lambda: self.hellos >= hellos and self.connections, timeout):
                raise AssertionError(f"the app did not connect over Socket Mode ({self.hellos} hellos)")
            return self.connections[-1]

    def deliver(self, kind: str, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send one envelope (`events_api`, `interactive` or `slash_commands`) and wait for its acknowledgement."""
        envelope_id = str(uuid.uuid4())
        retries = {"retry_attempt": 0, "retry_reason": ""} if kind == "events_api" else {}
        self.connected().send(json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                          "accepts_response_payload": kind != "events_api", **retries}))
        with self._acked:
            if not self._acked.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"the {kind} envelope {envelope_id} was not acknowledged within {timeout}s")
            return self.acks[envelope_id]

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to move to a new connection, as Slack does every few hours."""
        self.connected().send(json.dumps({"type": "disconnect", "reason": reason,
                                          "debug_info": {"host": "fake-socket-mode"}}))

    def drop(self) -> None:
        """Close the live connection from Slack's side, with no warning."""
        self.connected().close()

    def close_connections(self) -> None:
        """Close every connection from Slack's side (the end of a test)."""
        with self._acked:
            live = list(self.connections)
        for connection in live:
            connection.close()

    def close(self) -> None:
        self.server.shutdown()


@dataclass
class Acknowledged:
    """A Socket Mode acknowledgement, read the way tests read an HTTP response from the bot."""

    envelope: dict[str, Any]
    status_code: int = 200

    @property
    def content(self) -> bytes:
        payload = self.envelope.get("payload")
        return json.dumps(payload).encode() if payload else b""

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> dict[str, Any]:
        return self.envelope.get("payload") or {}


class SocketSlackClient(SlackPayloads):
    """Sends what Slack sends an app in Socket Mode: the same payloads as `SlackClient`, in envelopes."""

    def __init__(self, socket: FakeSocketMode) -> None:
        self.socket = socket

    def click(self, action_id: str, value: str, user: str, message_ts: str) -> Acknowledged:
        return Acknowledged(self.socket.deliver("interactive", self.click_payload(action_id, value, user, message_ts)))

    def submit(self, view: dict[str, Any], user: str, values: dict[str, Any]) -> Acknowledged:
        return Acknowledged(self.socket.deliver("interactive", self.submit_payload(view, user, values)))

    def event(self, event: dict[str, Any]) -> Acknowledged:
        return Acknowledged(self.socket.deliver("events_api", self.event_callback(event)))

    def home_click(self, action: dict[str, Any], user: str, view: dict[str, Any]) -> Acknowledged:
        return Acknowledged(self.socket.deliver("interactive", self.home_click_payload(action, user, view)))

    def modal_click(self, action: dict[str, Any], user: str, view: dict[str, Any],
                    values: dict[str, Any]) -> Acknowledged:
        return Acknowledged(self.socket.deliver("interactive", self.modal_click_payload(action, user, view, values)))

    def command(self, text: str, user: str) -> Acknowledged:
        return Acknowledged(self.socket.deliver("slash_commands", self.command_fields(text, user)))


def wait_for(condition: Any, timeout: float = 5.0) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {getattr(condition, '__name__', condition)}")
