"""A fake platform for adapter tests: a real HTTP server on 127.0.0.1 that records every request.

Routes answer with queued replies (the last one repeats), so a test can script a 500 then a 200,
or a 429 with its rate-limit headers, and then assert on exactly what the adapter sent. Gates hold
a request to mark the bot as inside a step (tests/gates.py); `MastodonAdmin` keeps the moderation
state of accounts as a real instance does, and `campaign_timeline` serves real statuses with a campaign.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from platforms.mastodon import TIMELINE
from tests.gates import Gate, Gates

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mastodon"
"""The recorded Mastodon responses (a real server's, with their licence and source beside them)."""


@dataclass
class Request:
    """One request the fake platform received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    multi: dict[str, list[str]] = field(default_factory=dict)
    """Every value of each query parameter (`query` keeps the first)."""

    def form(self) -> dict[str, str]:
        """The body as a decoded url-encoded form."""
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class Reply:
    """A scripted answer; `delay` makes the server slow enough to time a client out."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None

    def encoded(self) -> bytes:
        """The body bytes: `raw` as given, else JSON."""
        return self.raw if self.raw is not None else json.dumps(self.body).encode()


Responder = Callable[[Request], Reply]


class FakePlatform:
    """A threaded HTTP server whose routes are (method, path) -> scripted replies or a responder."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: dict[tuple[str, str], list[Reply] | Responder] = {}
        self._fallback: Responder | None = None
        self.gates = Gates()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    {key: values[0] for key, values in parse_qs(parts.query).items()},
                    {key.lower(): value for key, value in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                    parse_qs(parts.query),
                )
                platform.requests.append(request)
                gate = platform.gates.take(f"{request.method} {request.path}", request)
                if gate is not None and not gate.after:
                    gate.hold()
                    reply = Reply(503, {"error": "the request never reached the platform"})
                else:
                    reply = platform._answer(request)
                    if gate is not None:
                        gate.hold()
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.encoded()
                try:
                    self.send_response(reply.status)
                    headers = {"content-type": "application/json; charset=utf-8", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL the adapter under test talks to."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, *replies: Reply | Responder) -> None:
        """Answer `method path` with these replies in turn (the last repeats), or with a responder."""
        if len(replies) == 1 and callable(replies[0]):
            self._routes[(method, path)] = replies[0]
        else:
            self._routes[(method, path)] = list(replies)  # type: ignore[arg-type]

    def fallback(self, responder: Responder) -> None:
        """Answer every request no route matches with `responder` (a whole fake platform, say)."""
        self._fallback = responder

    def hold(self, method: str, path: str, after: bool = False, seconds: float = 60.0) -> Gate:
        """Hold the next `method path` request: dropped unanswered, or (`after`) carried out first."""
        return self.gates.arm(f"{method} {path}", Gate(after=after, seconds=seconds))

    def sent(self, method: str, path: str) -> list[Request]:
        """The requests received for `method path`."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def _answer(self, request: Request) -> Reply:
        route = self._routes.get((request.method, request.path))
        if route is None:
            return self._fallback(request) if self._fallback else Reply(404, {"error": "Record not found"})
        if callable(route):
            return route(request)
        return route.pop(0) if len(route) > 1 else route[0]

    def close(self) -> None:
        """Stop the server."""
        self.gates.release_all()
        self._server.shutdown()
        self._server.server_close()


class FakeClock:
    """Wall-clock time that moves only when the code under test sleeps."""

    def __init__(self, start: float = 1_785_592_800.0) -> None:  # 2026-08-01T14:00:00Z
        self.now = start
        self.slept: list[float] = []

    def time(self) -> float:
        """The current fake time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the wait and move time on."""
        self.slept.append(seconds)
        self.now += seconds


def cassette(name: str) -> list[dict[str, Any]]:
    """The interactions of a recorded vcrpy cassette in tests/fixtures/mastodon."""
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["interactions"]


def recorded(name: str, method: str, path_part: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of the first recorded response to `method` on a URI containing `path_part`."""
    for interaction in cassette(name):
        request, response = interaction["request"], interaction["response"]
        if request["method"] == method and path_part in request["uri"]:
            headers = {key.lower(): values[0] for key, values in response["headers"].items()}
            return response["status"]["code"], headers, response["body"]["string"]
    raise KeyError(f"{name} has no {method} {path_part}")


def recorded_statuses() -> list[dict]:
    """The 28 real statuses of the recorded public timelines, newest first."""
    found = {}
    for name in ("test_public_tl.yaml", "test_timeline_disabled.yaml"):
        for interaction in cassette(name):
            if "/timelines/public" in interaction["request"]["uri"]:
                for status in json.loads(interaction["response"]["body"]["string"]):
                    found[status["id"]] = status
    return sorted(found.values(), key=lambda s: int(s["id"]), reverse=True)


class Timeline:
    """Serves statuses the way Mastodon pages them (max_id / min_id / limit, Link header), 5 per page."""

    def __init__(self, statuses: list[dict], page_size: int = 5) -> None:
        self.statuses = statuses
        self.page_size = page_size
        _, headers, _ = recorded("test_public_tl.yaml", "GET", "/timelines/public")
        self.headers = {k: v for k, v in headers.items() if k.startswith("x-ratelimit")}

    def post(self, count: int) -> list[str]:
        """New statuses arrive (copies of recorded ones with higher ids); returns their ids."""
        top = int(self.statuses[0]["id"])
        new = []
        for offset in range(1, count + 1):
            status = copy.deepcopy(self.statuses[-1])
            status["id"] = str(top + offset)
            status["created_at"] = "2026-08-02T07:59:00.000Z"
            new.append(status)
        self.statuses[:0] = reversed(new)
        return [s["id"] for s in new]

    def __call__(self, request: Request) -> Reply:
        limit = min(int(request.query.get("limit", 20)), self.page_size)
        max_id, min_id = request.query.get("max_id"), request.query.get("min_id")
        chosen = [
            s
            for s in self.statuses
            if (max_id is None or int(s["id"]) < int(max_id)) and (min_id is None or int(s["id"]) > int(min_id))
        ]
        chosen = chosen[-limit:] if min_id else chosen[:limit]
        headers = dict(self.headers)
        if chosen:
            base = f"http://127.0.0.1{TIMELINE}"
            headers["link"] = (
                f'<{base}?max_id={chosen[-1]["id"]}>; rel="next", <{base}?min_id={chosen[0]["id"]}>; rel="prev"'
            )
        return Reply(200, chosen, headers)


ADMIN = "/api/v1/admin/accounts/"


class MastodonAdmin:
    """The admin accounts API of one instance: each account's `suspended`/`disabled` changes as actions land.

    `carried_out` lists every action that took effect, so a test can count what happened to whom; `created`
    gives accounts their exact creation time (else the recorded account's).
    """

    def __init__(self, platform: FakePlatform, account_ids: list[str], created: dict[str, str] | None = None) -> None:
        _, _, body = recorded("test_admin_moderation.yaml", "GET", f"{ADMIN}117020566092212359")
        self.entity = json.loads(body)
        self.created = created or {}
        self.state = {account: {"suspended": False, "disabled": False} for account in account_ids}
        self.carried_out: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        for account in account_ids:
            platform.route("GET", f"{ADMIN}{account}", self.account)
            for verb in ("action", "unsuspend", "enable"):
                platform.route("POST", f"{ADMIN}{account}/{verb}", self.act)

    def account(self, request: Request) -> Reply:
        """GET /api/v1/admin/accounts/:id with the account's current state."""
        account_id = request.path.removeprefix(ADMIN)
        with self._lock:
            return Reply(200, {**self.entity, "id": account_id, "username": f"voter{account_id}", "domain": None,
                               "created_at": self.created.get(account_id, self.entity["created_at"]),
                               **self.state[account_id]})

    def act(self, request: Request) -> Reply:
        """POST .../action (type=suspend|disable), .../unsuspend, .../enable."""
        account_id, _, verb = request.path.removeprefix(ADMIN).partition("/")
        kind = request.form().get("type") if verb == "action" else verb
        change = {"suspend": ("suspended", True), "disable": ("disabled", True), "unsuspend": ("suspended", False),
                  "enable": ("disabled", False)}[kind]
        with self._lock:
            self.state[account_id][change[0]] = change[1]
            self.carried_out.append((account_id, kind))
        return Reply(200, {})

    def times(self, account_id: str, kind: str) -> int:
        """How many times `kind` took effect on an account."""
        with self._lock:
            return self.carried_out.count((account_id, kind))


CAMPAIGN_TEXT = "<p>Candidate X is the ONLY one who will fix healthcare. Vote X on March 3! {tag}</p>"


def campaign_timeline(now: datetime, accounts: int = 6, organic: int = 0) -> list[dict]:
    """The recorded real statuses re-dated into the last hour, `organic` more with texts of their own,
    and `accounts` new accounts (ids 90000...) posting one text; newest first."""
    real = recorded_statuses()
    for minutes, status in enumerate(real):
        status["created_at"] = (now - timedelta(minutes=55 - minutes)).isoformat().replace("+00:00", "Z")
    top = int(real[0]["id"])
    extra = []
    for index in range(organic):
        status = copy.deepcopy(real[index % len(real)])
        status["account"] = {**status["account"], "id": f"7{index:06d}", "acct": f"chatter{index}"}
        status.update(id=str(top + 1 + index), content=f"<p>note {index} about topic {index * 7919 % 104729}</p>",
                      created_at=(now - timedelta(minutes=50, seconds=-index)).isoformat().replace("+00:00", "Z"),
                      media_attachments=[], reblog=None)
        extra.append(status)
    top += organic
    campaign = []
    for index in range(accounts):
        status = copy.deepcopy(real[-1])
        account = status["account"]
        account.update(id=f"9000{index}", username=f"voter{index}", acct=f"voter{index}", followers_count=1,
                       created_at=(now - timedelta(days=2)).strftime("%Y-%m-%dT00:00:00.000Z"),
                       avatar="https://mastodon.example/avatars/original/missing.png",
                       url=f"https://mastodon.example/@voter{index}")
        status.update(id=str(top + 1 + index), content=CAMPAIGN_TEXT.format(tag=["#VoteX", "", "!!"][index % 3]),
                      created_at=(now - timedelta(minutes=20 - index)).isoformat().replace("+00:00", "Z"),
                      media_attachments=[], reblog=None)
        campaign.append(status)
    return sorted(real + extra + campaign, key=lambda s: int(s["id"]), reverse=True)


POOL_MESSAGES = [
    "Candidate X is the ONLY one who will fix healthcare. Vote X on March 3!",
    "Nobody in this race has done more for nurses and teachers than Candidate X, and it is not close",
    "Candidate X built the new clinic while everyone else just talked about it. Results, not promises",
    "Tired of waiting rooms and surprise bills? Candidate X has a plan and the record to back it up",
]
"""The campaign's pre-written messages: each account posts a random few of them, lightly edited."""
CAMPAIGN_IMAGE = "/media/flyer.png"
"""Where the fake platform serves the campaign's picture (a real PNG, hashed by the bot)."""


def flyer_png() -> bytes:
    """A small real PNG with some structure, so its perceptual hash is a real one."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 64), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 56, 40), fill="navy")
    draw.ellipse((50, 20, 90, 60), fill="crimson")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pool_campaign_timeline(now: datetime, base_url: str, accounts: int = 14, organic: int = 60,
                           seed: int = 3) -> list[dict]:
    """The recorded real statuses and `organic` old accounts posting real tweets over the last 3 hours, and
    `accounts` accounts 20-80 days old (ids 9000...) each posting 2-3 of POOL_MESSAGES with light edits,
    70 % with the campaign's picture, within the last 2 hours; newest first, ids rising with time."""
    import html
    import random

    from cli.real_text import real_users
    from cli.synthetic import light_edit

    rng = random.Random(seed)
    real = recorded_statuses()
    first_id = int(real[-1]["id"])
    for minutes, status in enumerate(real):
        status["created_at"] = now - timedelta(minutes=170 - minutes)
    statuses = list(real)
    template = real[-1]

    def account(number: str, name: str, followers: int, days: float) -> dict:
        return {**template["account"], "id": number, "username": name, "acct": name, "followers_count": followers,
                "url": f"https://mastodon.example/@{name}",
                "created_at": (now - timedelta(days=days)).strftime("%Y-%m-%dT00:00:00.000Z")}

    def status(author: dict, text: str, minutes_ago: float, media: list[dict]) -> dict:
        return {**copy.deepcopy(template), "account": author, "reblog": None, "media_attachments": media,
                "content": f"<p>{html.escape(text)}</p>", "created_at": now - timedelta(minutes=minutes_ago)}

    for index, user in enumerate(rng.sample(real_users(), organic)):
        reader = account(f"7{index:05d}", f"reader{index}", user.followers, rng.uniform(400, 3000))
        statuses.extend(status(reader, text, rng.uniform(5, 175), []) for text in user.texts[:3])
    flyer = [{"id": "1", "type": "image", "url": base_url + CAMPAIGN_IMAGE, "blurhash": None}]
    for index in range(accounts):
        voter = account(f"9000{index}", f"voter{index}", rng.randint(0, 40), rng.uniform(20, 80))
        for message in rng.sample(POOL_MESSAGES, rng.randint(2, 3)):
            media = flyer if rng.random() < 0.7 else []
            statuses.append(status(voter, light_edit(rng, message), rng.uniform(5, 120), media))
    statuses.sort(key=lambda s: s["created_at"])
    for offset, each in enumerate(statuses):
        each["id"] = str(first_id + offset)
        each["created_at"] = each["created_at"].isoformat().replace("+00:00", "Z")
    return statuses[::-1]
