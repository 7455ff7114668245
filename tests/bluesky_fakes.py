"""Fake Bluesky services over real sockets on 127.0.0.1: Jetstream (a real WebSocket server), the AppView's
getProfiles and an Ozone moderation service, serving the recorded and lexicon-shaped samples of
tests/fixtures/bluesky (see the README there for where each comes from)."""

from __future__ import annotations

import base64
import bisect
import copy
import json
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.platform_server import FakePlatform, Reply, Request

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bluesky"
POST = "app.bsky.feed.post"


def fixture(name: str) -> Any:
    """A JSON file of tests/fixtures/bluesky, or a .jsonl file as a list of events."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line] if name.endswith(".jsonl") else json.loads(text)


def recorded_events() -> list[dict[str, Any]]:
    """The 152 events production Jetstream v1 sent, in `time_us` order (the order its cursor replays them in)."""
    return sorted(fixture("jetstream_v1.jsonl"), key=lambda event: event["time_us"])


def post_creates(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The post creates among `events`."""
    return [e for e in events if e["kind"] == "commit" and e["commit"]["operation"] == "create"
            and e["commit"]["collection"] == POST]


def post_event(did: str, rkey: str, text: str, at: datetime, time_us: int | None = None,
               **record: Any) -> dict[str, Any]:
    """A post create in the v1 shape of the recorded events."""
    template = post_creates(recorded_events())[1]
    event = copy.deepcopy(template)
    event["did"] = did
    event["time_us"] = time_us if time_us is not None else int(at.timestamp() * 1_000_000)
    event["commit"].update(rkey=rkey, rev=rkey, record={"$type": POST, "text": text, "langs": ["en"],
                                                      "createdAt": at.isoformat().replace("+00:00", "Z"), **record})
    return event


class FakeJetstream:
    """Jetstream v1's `/subscribe`: replays from `cursor` (a time_us, inclusive) or tails live, and sends
    only the commits of `wantedCollections` (`identity` and `account` events always, as Jetstream does).

    `drop_after` cuts every connection abruptly after that many events (a network drop mid-stream);
    `refusing` answers the handshake with 503 (the stream is down). `connections` records each
    connection's query parameters.
    """

    def __init__(self, events: Iterable[dict[str, Any]] = ()) -> None:
        self._times: list[int] = []
        self._frames: list[tuple[dict[str, Any], str]] = []
        self._cond = threading.Condition()
        self.connections: list[dict[str, list[str]]] = []
        self.drop_after: int | None = None
        self.refusing = False
        self.sent = 0
        self._closing = False
        self._open: list[ServerConnection] = []
        self.publish(events)
        self._server = serve(self._handle, "127.0.0.1", 0, process_request=self._process_request,
                             compression=None, max_queue=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The `jetstream_url` the bot is given."""
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/subscribe"

    def publish(self, events: Iterable[dict[str, Any]]) -> None:
        """Events arrive on the network (kept in time_us order; an event without one is stamped now)."""
        with self._cond:
            for event in events:
                if "time_us" not in event:
                    event = {**event, "time_us": max(int(time.time() * 1e6), (self._times or [0])[-1] + 1)}
                index = bisect.bisect_right(self._times, event["time_us"])
                self._times.insert(index, event["time_us"])
                self._frames.insert(index, (event, json.dumps(event, ensure_ascii=False, separators=(",", ":"))))
            self._cond.notify_all()

    def drop_all(self) -> None:
        """Cut every open connection now."""
        with self._cond:
            for connection in self._open:
                connection.close_socket()

    def cursors(self) -> list[int | None]:
        """The cursor each connection asked for (None: live)."""
        return [int(query["cursor"][0]) if "cursor" in query else None for query in self.connections]

    def close(self) -> None:
        """Stop serving."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self.drop_all()
        self._server.shutdown()

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        if self.refusing:
            return connection.respond(503, "jetstream is down\n")
        return None

    def _handle(self, connection: ServerConnection) -> None:
        query = parse_qs(urlsplit(connection.request.path).query)
        wanted = set(query.get("wantedCollections", []))
        with self._cond:
            self.connections.append(query)
            self._open.append(connection)
            if "cursor" in query:
                position = bisect.bisect_left(self._times, int(query["cursor"][0]))
            else:
                position = len(self._frames)
        sent = 0
        try:
            while True:
                with self._cond:
                    while position >= len(self._frames) and not self._closing:
                        self._cond.wait(0.2)
                    if self._closing:
                        return
                    batch = self._frames[position:]
                    position = len(self._frames)
                for event, frame in batch:
                    if not _wanted(event, wanted):
                        continue
                    connection.send(frame)
                    sent += 1
                    with self._cond:
                        self.sent += 1
                    if self.drop_after is not None and sent >= self.drop_after:
                        connection.close_socket()
                        return
        except (ConnectionClosed, OSError):
            return
        finally:
            with self._cond:
                self._open.remove(connection)


def _wanted(event: dict[str, Any], wanted: set[str]) -> bool:
    if event.get("kind") != "commit" or not wanted:
        return True
    collection = event["commit"].get("collection", "")
    return collection in wanted or any(w.endswith(".*") and collection.startswith(w[:-1]) for w in wanted)


GET_PROFILES = "/xrpc/app.bsky.actor.getProfiles"


def profile(did: str, handle: str, created: datetime, followers: int = 1, avatar: bool = False,
            **extra: Any) -> dict[str, Any]:
    """A `profileViewDetailed` shaped like the fixture's second profile."""
    view = copy.deepcopy(fixture("appview_getProfiles.json")["profiles"][1])
    view.update(did=did, handle=handle, followersCount=followers,
                createdAt=created.isoformat().replace("+00:00", "Z"), **extra)
    if avatar:
        view["avatar"] = f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq@jpeg"
    return view


class FakeAppView:
    """`app.bsky.actor.getProfiles` on a fake platform: answers the profiles it knows (up to 25 `actors`,
    400 beyond, as the lexicon's maxLength); unknown DIDs are left out of `profiles`, as the AppView does."""

    def __init__(self, platform: FakePlatform, profiles: Iterable[dict[str, Any]] = ()) -> None:
        self.platform = platform
        self.profiles = {p["did"]: p for p in profiles}
        self.outage: list[Reply] = []
        platform.route("GET", GET_PROFILES, self._answer)

    def calls(self) -> list[list[str]]:
        """The `actors` of each getProfiles call."""
        return [r.multi.get("actors", []) for r in self.platform.sent("GET", GET_PROFILES)]

    def _answer(self, request: Request) -> Reply:
        if self.outage:
            return self.outage.pop(0)
        actors = request.multi.get("actors", [])
        if not actors or len(actors) > 25:
            return Reply(400, {"error": "InvalidRequest", "message": "Error: params/actors must not have more "
                                                                       "than 25 elements"})
        return Reply(200, {"profiles": [self.profiles[a] for a in actors if a in self.profiles]})


EMIT = "/xrpc/tools.ozone.moderation.emitEvent"
GET_REPO = "/xrpc/tools.ozone.moderation.getRepo"
QUERY_STATUSES = "/xrpc/tools.ozone.moderation.queryStatuses"
ERRORS = fixture("xrpc_errors.json")


class FakeOzone:
    """An Ozone service's moderation API: each account's takedown and labels change as events land, with
    Ozone's own refusals (already taken down, not taken down, a repeated externalId) and its auth
    (HTTP Basic `admin` and the admin password, or a bearer token). `outage` replies come first."""

    def __init__(self, platform: FakePlatform, password: str, token: str = "") -> None:
        self.platform = platform
        self.password = password
        self.token = token
        self.takendown: dict[str, bool] = {}
        self.labels: dict[str, set[str]] = {}
        self.events: list[dict[str, Any]] = []
        self.outage: list[Reply] = []
        self._lock = threading.Lock()
        platform.route("POST", EMIT, self._emit)
        platform.route("GET", GET_REPO, self._get_repo)
        platform.route("GET", QUERY_STATUSES, self._query_statuses)

    def times(self, did: str, kind: str) -> int:
        """How many events of `kind` (takedown, reverse, label, negate) landed on `did`."""
        with self._lock:
            return sum(1 for e in self.events if e["subject"]["did"] == did and _kind(e["event"]) == kind)

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if self.token and header == f"Bearer {self.token}":
            return True
        expected = "Basic " + base64.b64encode(f"admin:{self.password}".encode()).decode()
        return header == expected

    def _emit(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, ERRORS["unauthorized"])
        if self.outage:
            return self.outage.pop(0)
        body = request.json()
        did, event, external = body["subject"]["did"], body["event"], body.get("externalId")
        kind = _kind(event)
        with self._lock:
            if external and any(e.get("externalId") == external and e["subject"]["did"] == did
                                and e["event"]["$type"] == event["$type"] for e in self.events):
                return Reply(400, ERRORS["duplicate_external_id"])
            if kind == "takedown" and self.takendown.get(did):
                return Reply(400, ERRORS["already_taken_down"])
            if kind == "reverse" and not self.takendown.get(did):
                return Reply(400, ERRORS["not_taken_down"])
            if kind in ("takedown", "reverse"):
                self.takendown[did] = kind == "takedown"
            labels = self.labels.setdefault(did, set())
            labels |= set(event.get("createLabelVals", []))
            labels -= set(event.get("negateLabelVals", []))
            self.events.append(body)
            view = {**fixture("ozone_emitEvent.json"), "id": len(self.events), "event": event,
                    "subject": body["subject"], "createdBy": body["createdBy"]}
        return Reply(200, view)

    def _get_repo(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, ERRORS["unauthorized"])
        did = request.query.get("did", "")
        with self._lock:
            if did not in self.takendown and did not in self.labels:
                return Reply(400, ERRORS["repo_not_found"])
            repo = fixture("ozone_getRepo.json")
            repo.update(did=did, handle=f"{did.rsplit(':', 1)[-1]}.bsky.social")
            repo["moderation"]["subjectStatus"].update(subject={"$type": "com.atproto.admin.defs#repoRef", "did": did},
                                                       takendown=self.takendown.get(did, False))
            repo["labels"] = [{"ver": 1, "src": "did:plc:ozonelabeler", "uri": did, "val": value,
                               "cts": "2026-07-04T15:00:00.000Z"} for value in sorted(self.labels.get(did, ()))]
        return Reply(200, repo)

    def _query_statuses(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, ERRORS["unauthorized"])
        did = request.query.get("subject", "")
        with self._lock:
            if did not in self.takendown:
                return Reply(200, {"subjectStatuses": []})
            status = copy.deepcopy(fixture("ozone_queryStatuses.json")["subjectStatuses"][0])
            status.update(subject={"$type": "com.atproto.admin.defs#repoRef", "did": did},
                          takendown=self.takendown[did])
        return Reply(200, {"subjectStatuses": [status]})


def _kind(event: dict[str, Any]) -> str:
    kind = event["$type"].rsplit("#", 1)[-1]
    if kind == "modEventLabel":
        return "label" if event.get("createLabelVals") else "negate"
    return {"modEventTakedown": "takedown", "modEventReverseTakedown": "reverse"}.get(kind, kind)


def campaign(now: datetime, accounts: int = 6, text: str = "Candidate X is the ONLY one who will fix healthcare. "
             "Vote X on March 3! {tag}") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`accounts` two-day-old accounts with no avatar and one follower, each posting the campaign's text within
    twenty minutes (with a varied ending), and their profiles: (events, profiles)."""
    events, profiles = [], []
    for index in range(accounts):
        did = f"did:plc:voter{index:02d}campaign00000000"
        profiles.append(profile(did, f"voter{index}.bsky.social", now - timedelta(days=2)))
        at = now - timedelta(minutes=20 - index)
        events.append(post_event(did, f"3mvote{index:02d}aaa2a", text.format(tag=["#VoteX", "", "!!"][index % 3]), at))
    return events, profiles


def organic(now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The recorded real events re-dated into the last hour (`time_us` and the posts' `createdAt` alike), and
    profiles of years-old accounts with avatars for their authors: (events, profiles)."""
    events = recorded_events()
    first = events[0]["time_us"]
    start = int((now - timedelta(hours=1)).timestamp() * 1_000_000)
    profiles = {}
    for event in events:
        event["time_us"] = start + (event["time_us"] - first) * 1000
        record = (event.get("commit") or {}).get("record")
        if isinstance(record, dict) and "createdAt" in record:
            record["createdAt"] = datetime.fromtimestamp(event["time_us"] / 1e6, UTC).isoformat().replace(
                "+00:00", "Z")
        did = event["did"]
        profiles[did] = profile(did, f"{did[8:16]}.bsky.social", now - timedelta(days=900), followers=250,
                                avatar=True)
    return events, list(profiles.values())
