"""Bluesky: posts from Jetstream's v1 WebSocket, account facts from the AppView.

Jetstream (`{jetstream_url}?wantedCollections=app.bsky.feed.post&cursor=TIME_US`) pushes every
post the network sees as one JSON text frame; only post creates become posts, everything else
(deletes, updates, `identity` and `account` events, other collections) is passed over but still
moves the cursor. The cursor is Jetstream's `time_us`, and Jetstream replays from it (about 36
hours back), so a restart or a reconnect loses nothing; a post replayed twice has the same id
and is stored once.

The stream is read continuously by a background thread into a bounded buffer, and each poll takes
the buffered posts (bench/bluesky.py measures why, bench/BLUESKY.md has the figures). When the
buffer is full the reader disconnects and resumes from its last event once the poller has caught
up: Jetstream holds the backlog, not our memory. A fetch whose cursor is not the one this source
last handed out (the poller failed to store that batch) throws the buffer away and reconnects from
the stored cursor, so a batch lost before it was stored is read again.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from domain.models import Author, Post
from domain.records import RecordError, parse_author, parse_post, parse_time
from platforms.base import MALFORMED_RECORD, FetchResult, Skipped, skipped_record
from platforms.http import HttpClient, PlatformError
from platforms.media import MediaHasher

log = logging.getLogger(__name__)

POST_COLLECTION = "app.bsky.feed.post"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"
PROFILES_PER_CALL = 25
"""The `actors` getProfiles accepts in one call (its lexicon's maxLength)."""
LOOKUP_THREADS = 4
"""getProfiles calls in flight at once: a burst of new authors is looked up at four round trips a time."""
PROFILE_URL = "https://bsky.app/profile/{}"
MAX_EVENT_BYTES = 4 * 1024 * 1024
"""A frame larger than this closes the connection (a post record is at most a few kilobytes)."""
MAX_CLOCK_SKEW = timedelta(minutes=10)
"""A post whose `createdAt` is further than this from when Jetstream saw it is timed by Jetstream:
a client-declared time cannot move a campaign outside the detection window."""
REPLAY_HOURS = 36
"""How far back Jetstream replays from a cursor; an older cursor starts at its oldest event."""
UP_AFTER_SECONDS = 10.0
"""A connection that delivers an event, or stays open this long, counts as the stream being up."""


@dataclass(frozen=True)
class JetstreamSettings:
    """How the reader connects, how much it buffers and when a stream that stays down is reported."""

    url: str
    buffer_posts: int = 50_000
    report_down_after_seconds: float = 120.0
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    open_timeout_seconds: float = 15.0
    ping_seconds: float = 20.0
    thumbnail_url: str = ""
    """With a MediaHasher: where an image's thumbnail is fetched for a perceptual hash ({did}, {cid})."""


def subscribe_url(base: str, cursor: int | None) -> str:
    """`base` asking for posts only, from `cursor` (a time_us) when given; other query keys are kept."""
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in ("wantedCollections", "cursor")]
    query.append(("wantedCollections", POST_COLLECTION))
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def decode_cursor(text: str | None) -> int | None:
    """The stored cursor as Jetstream's time_us; None means the stream was never read."""
    if text is None:
        return None
    if not text.isdigit():
        raise PlatformError(f"the stored cursor {text[:60]!r} is not a Jetstream time_us this source wrote")
    return int(text)


@dataclass(frozen=True, slots=True)
class Created:
    """One post create from the stream, as received: the author's DID, the record key and the record."""

    time_us: int
    did: str
    rkey: str
    cid: str
    record: Any


class _Reader:
    """The background thread: keeps one Jetstream connection open and buffers post creates.

    It reconnects with backoff from the last event it received; events replayed at that same
    time_us which it already buffered are skipped, so a reconnect repeats nothing.
    """

    def __init__(self, settings: JetstreamSettings, cursor: int | None, now: Callable[[], float]) -> None:
        self.settings = settings
        self._now = now
        self._cond = threading.Condition()
        self._buffer: deque[Created] = deque()
        self._stop = threading.Event()
        self.position = cursor
        """time_us of the newest event received (posts and passed-over events alike)."""
        self._at_position: set[tuple[str, str, str]] = set()
        self.received = 0
        self.failures = 0
        self.down_since: float | None = None
        self.last_error = ""
        self.connected = False
        self._thread = threading.Thread(target=self._run, name="jetstream-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait for it (it notices within a second)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def take(self, limit: int) -> tuple[list[Created], int | None, bool]:
        """Up to `limit` buffered creates, the cursor just past them, and whether the buffer is now empty."""
        with self._cond:
            count = min(limit, len(self._buffer))
            taken = [self._buffer.popleft() for _ in range(count)]
            drained = not self._buffer
            cursor = self.position if drained else taken[-1].time_us if taken else None
            self._cond.notify_all()
        return taken, cursor, drained

    def buffered(self) -> int:
        """Creates waiting for a poll."""
        with self._cond:
            return len(self._buffer)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wait_for_room()
            if self._stop.is_set():
                return
            try:
                self._read_once()
            except (OSError, WebSocketException, TimeoutError) as error:
                self._failed(error)
            except Exception as error:  # anything else must not end the thread: the stream would stop for good
                log.exception("jetstream: the reader failed")
                self._failed(error)
            else:
                continue
            delay = min(self.settings.backoff_max_seconds,
                        self.settings.backoff_seconds * 2 ** min(self.failures - 1, 16))
            self._stop.wait(delay * random.uniform(0.5, 1.0))

    def _wait_for_room(self) -> None:
        """While the buffer is full, stay disconnected until the poller has taken half of it."""
        with self._cond:
            if len(self._buffer) < self.settings.buffer_posts:
                return
            log.info("jetstream: %d posts buffered; pausing the stream until the poller catches up", len(self._buffer))
            while len(self._buffer) > self.settings.buffer_posts // 2 and not self._stop.is_set():
                self._cond.wait(1.0)

    def _read_once(self) -> None:
        url = subscribe_url(self.settings.url, self.position)
        with connect(url, open_timeout=self.settings.open_timeout_seconds, close_timeout=2,
                     max_size=MAX_EVENT_BYTES, ping_interval=self.settings.ping_seconds,
                     ping_timeout=self.settings.ping_seconds, compression=None,
                     user_agent_header="chorus (moderation bot)") as connection:
            log.info("jetstream: connected to %s", url)
            opened = self._now()
            self.connected = True
            try:
                while not self._stop.is_set():
                    try:
                        message = connection.recv(timeout=0.5)
                    except TimeoutError:
                        if self.failures and self._now() - opened >= UP_AFTER_SECONDS:
                            self._up()
                        continue
                    if self.failures:
                        self._up()
                    if self._receive(message):
                        return  # buffer full: disconnect; Jetstream keeps the rest for the reconnect
            finally:
                self.connected = False
                # frames still in flight would hold up a closing handshake until it times out: just hang up
                connection.close_socket()

    def _receive(self, message: str | bytes) -> bool:
        """Buffer one frame if it is a post create; True when the buffer is full."""
        try:
            event = orjson.loads(message)
            time_us = event["time_us"]
            if not isinstance(time_us, int) or isinstance(time_us, bool):
                raise TypeError("time_us is not an integer")
        except (ValueError, TypeError, KeyError) as error:
            log.warning("jetstream: an unreadable frame was passed over (%s): %r", error, message[:120])
            return False
        commit = event.get("commit") if event.get("kind") == "commit" else None
        created = None
        if (isinstance(commit, dict) and commit.get("operation") == "create"
                and commit.get("collection") == POST_COLLECTION):
            created = Created(time_us, str(event.get("did", "")), str(commit.get("rkey", "")),
                              str(commit.get("cid", "")), commit.get("record"))
        with self._cond:
            self.received += 1
            if self.position is None or time_us > self.position:
                self.position = time_us
                self._at_position.clear()
            if created is not None:
                seen = (created.did, created.rkey, created.cid)
                if time_us == self.position:
                    if seen in self._at_position:
                        return False  # replayed after a reconnect at the cursor's own time_us
                    self._at_position.add(seen)
                self._buffer.append(created)
            return len(self._buffer) >= self.settings.buffer_posts

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, InvalidStatus):
            text = f"the server refused the connection ({error.response.status_code})"
        else:
            text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        self.failures += 1
        self.last_error = text
        if self.down_since is None:
            self.down_since = self._now()
        log.warning("jetstream: stream lost (%s); reconnecting from time_us %s, attempt %d", text, self.position,
                    self.failures)

    def _up(self) -> None:
        self.failures = 0
        self.down_since = None


class ProfileCache:
    """AppView profiles by DID, least recently used dropped first; a DID the AppView does not know is cached too."""

    def __init__(self, client: HttpClient, size: int = 100_000) -> None:
        self.client = client
        self.size = size
        self._profiles: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, dids: Iterable[str], *, fresh: bool = False) -> dict[str, dict[str, Any] | None]:
        """Profiles of `dids` (None for an account the AppView has no profile of); `fresh` skips the cache.

        Looked up 25 to a call, LOOKUP_THREADS calls at a time; when a call fails the others are still cached
        and the first failure is raised.
        """
        wanted = list(dict.fromkeys(dids))
        found: dict[str, dict[str, Any] | None] = {}
        with self._lock:
            missing = []
            for did in wanted:
                if not fresh and did in self._profiles:
                    self._profiles.move_to_end(did)
                    found[did] = self._profiles[did]
                else:
                    missing.append(did)
        chunks = [missing[start:start + PROFILES_PER_CALL] for start in range(0, len(missing), PROFILES_PER_CALL)]
        if not chunks:
            return found
        failure: PlatformError | None = None
        with ThreadPoolExecutor(min(LOOKUP_THREADS, len(chunks)), thread_name_prefix="appview") as pool:
            for chunk, outcome in zip(chunks, pool.map(self._try_fetch, chunks), strict=True):
                if isinstance(outcome, PlatformError):
                    failure = failure or outcome
                    continue
                with self._lock:
                    for did in chunk:
                        found[did] = outcome.get(did)
                        self._profiles[did] = found[did]
                        self._profiles.move_to_end(did)
                    while len(self._profiles) > self.size:
                        self._profiles.popitem(last=False)
        if failure is not None:
            raise failure
        return found

    def _try_fetch(self, dids: Sequence[str]) -> dict[str, dict[str, Any]] | PlatformError:
        try:
            return self._fetch(dids)
        except PlatformError as error:
            return error

    def _fetch(self, dids: Sequence[str]) -> dict[str, dict[str, Any]]:
        body, _ = self.client.json("GET", PROFILES, params=[("actors", did) for did in dids])
        profiles = body.get("profiles") if isinstance(body, dict) else None
        if not isinstance(profiles, list):
            raise PlatformError(f"bluesky GET {PROFILES} returned no list of profiles", retryable=True)
        return {p["did"]: p for p in profiles if isinstance(p, dict) and isinstance(p.get("did"), str)}


def author_record(did: str, profile: dict[str, Any] | None) -> dict[str, Any]:
    """An account in the post record's shape: handle, name, age, counts and default avatar from its profile."""
    handle = profile.get("handle") if profile else None
    if not isinstance(handle, str) or handle == "handle.invalid":
        handle = ""
    author: dict[str, Any] = {"id": did, "handle": handle, "url": PROFILE_URL.format(handle or did)}
    if profile:
        author.update(
            display_name=profile.get("displayName") or "",
            created_at=profile.get("createdAt"),
            posts_count=profile.get("postsCount"),
            followers_count=profile.get("followersCount"),
            following_count=profile.get("followsCount"),
            default_avatar=not profile.get("avatar"),
        )
    return author


def blob_cid(blob: Any) -> str | None:
    """The CID of a blob: `ref.$link` in today's records, `cid` in the legacy shape."""
    if not isinstance(blob, dict):
        return None
    ref = blob.get("ref")
    cid = ref.get("$link") if isinstance(ref, dict) else blob.get("cid")
    return cid if isinstance(cid, str) and cid else None


def cid_sha256(cid: str) -> str:
    """A blob CID's content key: the sha256 it carries (a CIDv1 `b...` with a sha2-256 multihash is exactly the
    hash of the file's bytes), else the CID itself, which is content-addressed all the same."""
    if cid.startswith("b"):
        try:
            raw = base64.b32decode(cid[1:].upper() + "=" * (-len(cid[1:]) % 8))
        except ValueError:
            return f"cid:{cid}"
        # version 1, then the codec (one varint byte for raw 0x55 and dag-pb 0x70), then sha2-256 (0x12) of 32 bytes
        if len(raw) == 36 and raw[0] == 1 and raw[2] == 0x12 and raw[3] == 0x20:
            return raw[4:].hex()
    return f"cid:{cid}"


def _images(embed: Any) -> list[Any]:
    """The image blobs of an embed: images, gallery items, and either inside a recordWithMedia."""
    if not isinstance(embed, dict):
        return []
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        return _images(embed.get("media"))
    if kind == "app.bsky.embed.images":
        items = embed.get("images")
    elif kind == "app.bsky.embed.gallery":
        items = embed.get("items")
    else:
        return []
    if not isinstance(items, list):
        raise RecordError(f"{kind} has no list of images")
    return [item.get("image") for item in items if isinstance(item, dict)]


def _links(record: dict[str, Any]) -> list[str]:
    """Link facets' URIs, then the external embed's (also inside a recordWithMedia), each once."""
    links = []
    for facet in record.get("facets") or []:
        for feature in (facet.get("features") or []) if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#link":
                links.append(feature.get("uri"))
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = embed.get("media")
    if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.external":
        external = embed.get("external")
        links.append(external.get("uri") if isinstance(external, dict) else None)
    return list(dict.fromkeys(link for link in links if isinstance(link, str) and link))


def post_time(created_at: Any, time_us: int) -> str:
    """The post's time: its `createdAt`, unless that is unreadable or further than MAX_CLOCK_SKEW from when
    Jetstream saw it (a backdated or future-dated post), then Jetstream's time."""
    seen = datetime.fromtimestamp(time_us / 1_000_000, UTC)
    try:
        declared = parse_time(created_at, "createdAt")
    except RecordError:
        return seen.isoformat()
    return created_at if abs(declared - seen) <= MAX_CLOCK_SKEW else seen.isoformat()


def to_post(created: Created, author: dict[str, Any], thumbnail_url: str = "",
            hasher: MediaHasher | None = None) -> Post:
    """A post create as a post record (docs/formats.md); raises `RecordError` naming what is wrong."""
    record = created.record
    if not isinstance(record, dict):
        raise RecordError("the commit has no record object")
    if not created.did.startswith("did:") or not created.rkey:
        raise RecordError("the event has no did or no rkey")
    media = []
    for blob in _images(record.get("embed")):
        cid = blob_cid(blob)
        if cid is None:
            continue
        url = thumbnail_url.format(did=created.did, cid=cid) if thumbnail_url else ""
        phash = hasher.hashes(url)[1] if hasher is not None and url else None
        media.append({"url": url, "sha256": cid_sha256(cid), "phash": phash})
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    langs = record.get("langs")
    handle_or_did = author.get("handle") or created.did
    return parse_post({
        "id": f"at://{created.did}/{POST_COLLECTION}/{created.rkey}",
        "created_at": post_time(record.get("createdAt"), created.time_us),
        "text": record.get("text"),
        "author": author,
        "media": media,
        "urls": _links(record),
        "reply_to": parent.get("uri") if isinstance(parent, dict) else None,
        "url": f"{PROFILE_URL.format(handle_or_did)}/post/{created.rkey}",
        "lang": langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
    })


class BlueskySource:
    """A `Source` over Jetstream: the reader thread buffers post creates, each fetch takes them and
    looks their authors up on the AppView (cached)."""

    name = "bluesky"

    def __init__(self, settings: JetstreamSettings, profiles: ProfileCache, *, hasher: MediaHasher | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.profiles = profiles
        self.hasher = hasher
        self._now = now
        self._reader: _Reader | None = None
        self._handed: str | None = None
        self._lock = threading.Lock()
        self._reported_down = False
        self._profiles_failing = False
        self._notices: list[str] = []

    def fetch(self, cursor: str | None, limit: int) -> FetchResult:
        """The buffered post creates past `cursor`, up to `limit`; starts (or restarts) the reader as needed."""
        with self._lock:
            if self._reader is None or cursor != self._handed:
                self._restart(cursor)
            assert self._reader is not None
            taken, position, drained = self._reader.take(limit)
            next_cursor = str(position) if position is not None else cursor
            self._handed = next_cursor
            self._check_stream()
        posts, skipped = self._posts(taken)
        notices, self._notices = self._notices, []
        return FetchResult(posts, next_cursor, skipped, exhausted=drained, notices=notices)

    def refresh_authors(self, account_ids: Sequence[str]) -> list[Author]:
        """The accounts' current facts from the AppView, past the cache (for a cluster's card)."""
        dids = [account for account in account_ids if account.startswith("did:")]
        if not dids:
            return []
        profiles = self.profiles.get_many(dids, fresh=True)
        authors = []
        for did, profile in profiles.items():
            try:
                authors.append(parse_author(author_record(did, profile)))
            except MALFORMED_RECORD as error:
                log.info("bluesky: the profile of %s is unusable: %s", did, error)
        return authors

    def close(self) -> None:
        """Stop the reader thread."""
        with self._lock:
            if self._reader is not None:
                self._reader.stop()
                self._reader = None

    @property
    def buffered(self) -> int:
        """Post creates read from the stream and not yet fetched."""
        return self._reader.buffered() if self._reader is not None else 0

    def _restart(self, cursor: str | None) -> None:
        start = decode_cursor(cursor)
        if start is not None and self._now() - start / 1_000_000 > REPLAY_HOURS * 3600:
            self._notice(f"the stored cursor is from {datetime.fromtimestamp(start / 1_000_000, UTC):%Y-%m-%d %H:%M} "
                         f"UTC, beyond the ~{REPLAY_HOURS} hours Jetstream replays: posts from before its oldest "
                         "event were missed")
        if self._reader is not None:
            log.warning("bluesky: the stored cursor %s is not the %s handed out last (a batch was not stored); "
                        "reading again from the stored cursor", cursor, self._handed)
            self._reader.stop()
        self._reader = _Reader(self.settings, start, self._now)

    def _check_stream(self) -> None:
        """Report a stream down longer than `report_down_after_seconds` once, and once more when it is back."""
        reader = self._reader
        assert reader is not None
        down = reader.down_since
        long_down = down is not None and self._now() - down >= self.settings.report_down_after_seconds
        if down is not None and long_down and not self._reported_down:
            self._reported_down = True
            self._notice(
                f"the Jetstream stream ({self.settings.url}) has been down since "
                f"{datetime.fromtimestamp(down, UTC):%Y-%m-%d %H:%M} UTC ({reader.last_error}); Chorus keeps "
                "reconnecting with backoff and will replay what it missed from its cursor "
                "(Jetstream keeps about 36 hours)")
        elif down is None and self._reported_down:
            self._reported_down = False
            self._notice(f"the Jetstream stream ({self.settings.url}) is back; Chorus is catching up from its cursor")

    def _posts(self, taken: list[Created]) -> tuple[list[Post], list[Skipped]]:
        profiles = self._profiles_of({created.did for created in taken})
        posts: list[Post] = []
        skipped: list[Skipped] = []
        for created in taken:
            try:
                author = author_record(created.did, profiles.get(created.did))
                posts.append(to_post(created, author, self.settings.thumbnail_url, self.hasher))
            except MALFORMED_RECORD as error:
                skipped.append(skipped_record(f"bluesky at://{created.did}/{POST_COLLECTION}/{created.rkey}",
                                              error))
        return posts, skipped

    def _profiles_of(self, dids: set[str]) -> dict[str, dict[str, Any] | None]:
        """Profiles from the cache and the AppView; when the AppView fails, posts go on without account facts."""
        if not dids:
            return {}
        try:
            found = self.profiles.get_many(sorted(did for did in dids if did.startswith("did:")))
        except PlatformError as error:
            if not self._profiles_failing:
                self._profiles_failing = True
                self._notice(f"{error}. Posts are read on without account facts (age, followers) until the AppView "
                             "answers again; cards refresh the accounts they show.")
            return {}
        if self._profiles_failing:
            self._profiles_failing = False
            log.info("bluesky: the AppView answers again")
        return found

    def _notice(self, text: str) -> None:
        log.warning("bluesky: %s", text)
        self._notices.append(text)
