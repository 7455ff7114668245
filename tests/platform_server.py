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
DOCS = FIXTURES / "docs"
"""Responses from Mastodon's API documentation (reports, domain blocks, measures), with their licence."""
FORBIDDEN = Reply(403, {"error": "This action is outside the authorized scopes"})
"""What Mastodon answers a token without the scope an endpoint needs (recorded in test_public_tl's neighbours)."""


def documented(name: str) -> Any:
    """A documented response body from tests/fixtures/mastodon/docs."""
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def snowflake(moment: datetime) -> str:
    """The id Mastodon gives a record made at `moment` (milliseconds since the epoch, shifted 16 bits)."""
    return str(int(moment.timestamp() * 1000) << 16)


@dataclass
class SignUpRecord:
    """A local account's sign-up as the admin API holds it: e-mail, the IPs it used (the first is the sign-up's)."""

    email: str
    ips: list[str]
    posts: int = 0


class MastodonAdmin:
    """The admin API of one instance, under the rules Mastodon's code follows: each account's `suspended`,
    `silenced` and `disabled` change as actions land; an action other than `none` resolves every open report about
    the account (`Admin::AccountAction#process_reports!`); the v2 account list filters by origin and pages by id
    (ids are creation times); a domain gets one block (a second is refused with 422); measures count follows.

    `carried_out` lists every action that took effect, so a test can count what happened to whom; `created`
    gives accounts their exact creation time (else the recorded account's); `remote` puts accounts on a domain.
    `missing_scopes` makes the endpoints needing those scopes answer 403, as a token without them gets.
    """

    def __init__(self, platform: FakePlatform, account_ids: list[str], created: dict[str, str] | None = None,
                 remote: dict[str, str] | None = None) -> None:
        _, _, body = recorded("test_admin_moderation.yaml", "GET", f"{ADMIN}117020566092212359")
        self.entity = json.loads(body)
        self.platform = platform
        self.created = created or {}
        self.remote = remote or {}
        self.sign_ups: dict[str, SignUpRecord] = {}
        self.state: dict[str, dict[str, bool]] = {}
        self.carried_out: list[tuple[str, str]] = []
        self.reports: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, dict[str, Any]] = {}
        self.follows: dict[str, int] = {}
        self.missing_scopes: set[str] = set()
        self._lock = threading.Lock()
        for account in account_ids:
            self.add_account(account)
        platform.route("GET", "/api/v1/admin/reports", self.list_reports)
        platform.route("GET", "/api/v2/admin/accounts", self.list_accounts)
        platform.route("GET", "/api/v1/admin/domain_blocks", self.list_blocks)
        platform.route("POST", "/api/v1/admin/domain_blocks", self.block)
        platform.route("POST", "/api/v1/admin/measures", self.measures)

    def add_account(self, account_id: str, created_at: str | None = None, sign_up: SignUpRecord | None = None,
                    domain: str | None = None) -> None:
        """An account the admin API knows (one that never posted, too)."""
        with self._lock:
            self.state[account_id] = {"suspended": False, "disabled": False, "silenced": False}
            if created_at:
                self.created[account_id] = created_at
            if sign_up:
                self.sign_ups[account_id] = sign_up
            if domain:
                self.remote[account_id] = domain
        self.platform.route("GET", f"{ADMIN}{account_id}", self.account)
        for verb in ("action", "unsuspend", "enable", "unsilence"):
            self.platform.route("POST", f"{ADMIN}{account_id}/{verb}", self.act)

    def record(self, account_id: str) -> dict[str, Any]:
        """The Admin::Account of an account as it stands."""
        domain = self.remote.get(account_id)
        sign_up = self.sign_ups.get(account_id)
        created = self.created.get(account_id, self.entity["created_at"])
        username = f"voter{account_id}"
        account = {**self.entity["account"], "id": account_id, "username": username,
                   "acct": f"{username}@{domain}" if domain else username,
                   "statuses_count": sign_up.posts if sign_up else self.entity["account"]["statuses_count"]}
        ips = [{"ip": ip, "used_at": created} for ip in (sign_up.ips[:1] if sign_up else [])]
        ips += [{"ip": ip, "used_at": "2026-08-01T20:00:00.000Z"} for ip in (sign_up.ips[1:] if sign_up else [])]
        return {**self.entity, "id": account_id, "username": username, "domain": domain, "created_at": created,
                "email": None if domain else (sign_up.email if sign_up else self.entity["email"]),
                "ip": ips[-1]["ip"] if ips else None, "ips": None if domain else ips, "account": account,
                **self.state[account_id]}

    def account(self, request: Request) -> Reply:
        """GET /api/v1/admin/accounts/:id with the account's current state."""
        if "admin:read:accounts" in self.missing_scopes:
            return FORBIDDEN
        with self._lock:
            return Reply(200, self.record(request.path.removeprefix(ADMIN)))

    def act(self, request: Request) -> Reply:
        """POST .../action (type=suspend|silence|disable, report_id), .../unsuspend, .../unsilence, .../enable."""
        if "admin:write:accounts" in self.missing_scopes:
            return FORBIDDEN
        account_id, _, verb = request.path.removeprefix(ADMIN).partition("/")
        kind = request.form().get("type") if verb == "action" else verb
        change = {"suspend": ("suspended", True), "disable": ("disabled", True), "silence": ("silenced", True),
                  "unsuspend": ("suspended", False), "enable": ("disabled", False),
                  "unsilence": ("silenced", False)}[kind]
        with self._lock:
            report = request.form().get("report_id") if verb == "action" else None
            if report is not None and report not in self.reports:
                return Reply(404, {"error": "Record not found"})
            if verb == "action" and account_id in self.remote and kind == "disable":
                return Reply(403, {"error": "This action is not allowed"})
            self.state[account_id][change[0]] = change[1]
            self.carried_out.append((account_id, kind))
            if verb == "action":  # any type but none resolves every open report about the account
                for each in self.reports.values():
                    if each["target_account"]["id"] == account_id and not each["action_taken"]:
                        each.update(action_taken=True, action_taken_at="2026-08-02T08:00:00.000Z")
        return Reply(200, {} if verb == "action" else self.record(account_id))

    def times(self, account_id: str, kind: str) -> int:
        """How many times `kind` took effect on an account."""
        with self._lock:
            return self.carried_out.count((account_id, kind))

    def file_report(self, target_account_id: str, created_at: str = "2026-08-02T07:30:00.000Z") -> str:
        """Someone reports an account; returns the report's id."""
        template = documented("webhook_report_created.json")["object"]
        with self._lock:
            report_id = str(9000 + len(self.reports))
            self.reports[report_id] = {**template, "id": report_id, "created_at": created_at, "category": "spam",
                                       "action_taken": False, "action_taken_at": None,
                                       "target_account": self.record(target_account_id)}
        return report_id

    def open_reports(self) -> list[str]:
        """Ids of the reports not yet resolved."""
        with self._lock:
            return sorted(r for r, each in self.reports.items() if not each["action_taken"])

    def list_reports(self, request: Request) -> Reply:
        """GET /api/v1/admin/reports?resolved=false&limit=N&max_id=M, newest first, a Link header to the next page."""
        if "admin:read:reports" in self.missing_scopes:
            return FORBIDDEN
        resolved = request.query.get("resolved") == "true"
        with self._lock:
            chosen = sorted((r for r in self.reports.values() if r["action_taken"] == resolved),
                            key=lambda r: int(r["id"]), reverse=True)
        return self._page(request, chosen, "/api/v1/admin/reports")

    def list_accounts(self, request: Request) -> Reply:
        """GET /api/v2/admin/accounts?origin=local&since_id=&max_id=&limit=: any status, newest id first."""
        if "admin:read:accounts" in self.missing_scopes:
            return FORBIDDEN
        origin = request.query.get("origin")
        with self._lock:
            records = [self.record(a) for a in self.state
                       if origin is None or (origin == "local") != (a in self.remote)]
        records.sort(key=lambda r: int(r["id"]), reverse=True)
        return self._page(request, records, "/api/v2/admin/accounts")

    def _page(self, request: Request, records: list[dict[str, Any]], path: str) -> Reply:
        limit = min(int(request.query.get("limit", 100)), 200)
        since, below = request.query.get("since_id"), request.query.get("max_id")
        chosen = [r for r in records if (since is None or int(r["id"]) > int(since))
                  and (below is None or int(r["id"]) < int(below))][:limit]
        headers = {}
        if len(chosen) == limit:
            kept = "&".join(f"{k}={v}" for k, v in request.query.items() if k != "max_id")
            headers["link"] = f'<http://127.0.0.1{path}?{kept}&max_id={chosen[-1]["id"]}>; rel="next"'
        return Reply(200, chosen, headers)

    def list_blocks(self, request: Request) -> Reply:
        """GET /api/v1/admin/domain_blocks."""
        if "admin:read:domain_blocks" in self.missing_scopes:
            return FORBIDDEN
        with self._lock:
            return Reply(200, sorted(self.blocks.values(), key=lambda b: int(b["id"]), reverse=True))

    def block(self, request: Request) -> Reply:
        """POST /api/v1/admin/domain_blocks: a second block of a domain is refused with 422 and the existing one."""
        if "admin:write:domain_blocks" in self.missing_scopes:
            return FORBIDDEN
        form = request.form()
        with self._lock:
            existing = next((b for b in self.blocks.values() if b["domain"] == form["domain"]), None)
            if existing is not None:
                return Reply(422, {**documented("domain_block_exists_422.json"), "existing_domain_block": existing,
                                   "error": f"You have already imposed stricter limits on {form['domain']}."})
            block_id = str(len(self.blocks) + 1)
            self.blocks[block_id] = {**documented("domain_block.json"), "id": block_id, "domain": form["domain"],
                                     "severity": form.get("severity", "silence"),
                                     "private_comment": form.get("private_comment")}
            self.carried_out.append((form["domain"], f"domain_block:{form.get('severity', 'silence')}"))
        self.platform.route("DELETE", f"/api/v1/admin/domain_blocks/{block_id}", self.unblock)
        return Reply(200, self.blocks[block_id])

    def unblock(self, request: Request) -> Reply:
        """DELETE /api/v1/admin/domain_blocks/:id."""
        block_id = request.path.rsplit("/", 1)[1]
        with self._lock:
            block = self.blocks.pop(block_id, None)
            if block is None:
                return Reply(404, {"error": "Record not found"})
            self.carried_out.append((block["domain"], "domain_unblock"))
        return Reply(200, {})

    def measures(self, request: Request) -> Reply:
        """POST /api/v1/admin/measures with keys[]=instance_follows and instance_follows[domain]."""
        if "admin:read" in self.missing_scopes:
            return FORBIDDEN
        form = request.form()
        measure = documented("measures_instance_follows.json")[0]
        return Reply(200, [{**measure, "total": str(self.follows.get(form.get("instance_follows[domain]", ""), 0))}])


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
