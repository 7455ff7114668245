"""Reading a newest-first feed past a stored cursor: backfill once, then follow forward.

Mastodon's timeline and Discourse's `/posts.json` both list newest first and page by id. The
cursor remembers the newest id handed out and, while one is open, a gap still to be read
backwards; so a restart with the stored cursor neither loses nor repeats a post.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.models import Post
from domain.records import RecordError, parse_time
from platforms.base import MALFORMED_RECORD, FetchResult, Skipped, skipped_record
from platforms.http import AuthError, PlatformError, RateLimited

log = logging.getLogger(__name__)


class FeedUnavailable(PlatformError):
    """The platform will not serve this feed (turned off by its admins); polling again cannot help."""


@dataclass
class Page:
    """One page of a newest-first feed and where paging goes on from it."""

    records: list[dict[str, Any]]
    newer_than: str | None = None
    """Forward paging continues above this id (Link rel="prev", else the first record's id)."""
    older_than: str | None = None
    """Backward paging continues below this id (Link rel="next", else the last record's id)."""
    reaches: bool = True
    """For a forward page: its records reach down to the asked id, so no gap is left below them."""


@dataclass
class FeedCursor:
    """What a newest-first source has handed out, as the opaque cursor string it stores."""

    newest: str | None = None
    gap_top: str | None = None
    """Backward paging resumes below this id..."""
    gap_floor: str | None = None
    """...and stops at this id; None means it stops at `floor_time` (the first-start backfill)."""
    floor_time: str | None = None
    pages: int = 0

    def encode(self) -> str:
        """The cursor string the poller stores."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def decode(cls, text: str | None) -> FeedCursor | None:
        """Read a stored cursor string back; None means the source has never been read."""
        if text is None:
            return None
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            raise PlatformError(f"the stored cursor {text[:60]!r} is not one this source wrote") from None


def id_order(record_id: str) -> tuple[int, str]:
    """Order ids numerically when they are numbers (Mastodon snowflakes, Discourse integers)."""
    return (len(record_id), record_id) if record_id.isdigit() else (0, record_id)


def newer(a: str, b: str) -> bool:
    """Whether id `a` comes after id `b`."""
    return id_order(a) > id_order(b)


class Stall:
    """Says once that a source's polls read nothing because of a rate limit, and once that they read again.

    A poll held back by a rate limit simply resumes at the next one; moderators need to hear it only
    when it lasts a whole poll (no post arrives), not at every poll while it lasts.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._stalled = False

    def after_poll(self, read_a_page: bool, held: RateLimited | None) -> str | None:
        """The notice a poll owes: when it read no page because of `held`, or read again after a stall."""
        if held is not None and not read_a_page:
            if self._stalled:
                return None
            self._stalled = True
            return (f"reading {self.name} posts is held back by a rate limit ({held}). Polling resumes by itself "
                    "and no post is lost; you will hear when posts arrive again.")
        if read_a_page and self._stalled:
            self._stalled = False
            return f"reading {self.name} posts works again after a rate limit held it back; it is catching up."
        return None


@dataclass
class FeedSettings:
    """How far back the first start reads, and how many pages it may spend doing so."""

    backfill_hours: float = 24.0
    backfill_pages: int = 50


class FeedSource:
    """A `Source` over a newest-first feed; subclasses say how to fetch pages and build posts."""

    name = "feed"

    def __init__(self, settings: FeedSettings, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self._now = now or (lambda: datetime.now(UTC))
        self._stopped = ""
        self._notices: list[str] = []
        self._stall = Stall(self.name)

    def latest(self) -> Page:
        """The newest page."""
        raise NotImplementedError

    def older(self, before_id: str) -> Page:
        """The page just below `before_id`, newest first."""
        raise NotImplementedError

    def newer(self, after_id: str) -> Page:
        """Records above `after_id`, newest first; `reaches` says whether they reach down to it."""
        raise NotImplementedError

    def to_post(self, record: dict[str, Any]) -> Post:
        """Turn one platform record into a `Post` (raise `RecordError` when it cannot)."""
        raise NotImplementedError

    def notice(self, text: str) -> None:
        """Queue a problem to hand to the poller once, with the next batch."""
        log.warning("%s: %s", self.name, text)
        self._notices.append(text)

    def fetch(self, cursor: str | None, limit: int) -> FetchResult:
        """Read up to about `limit` posts past `cursor`; a permanent refusal is reported once, then idle."""
        if self._stopped:
            return FetchResult([], cursor, exhausted=True)
        state = FeedCursor.decode(cursor)
        try:
            records, state, exhausted = self._read(state, limit)
        except (AuthError, FeedUnavailable) as error:
            self._stopped = str(error)
            self.notice(f"{error}. Polling {self.name} is stopped until Chorus restarts.")
            return FetchResult([], cursor, exhausted=True, notices=self._take_notices())
        posts: list[Post] = []
        skipped: list[Skipped] = []
        for record in records:
            try:
                posts.append(self.to_post(record))
            except MALFORMED_RECORD as error:
                skipped.append(skipped_record(f"{self.name} record {record.get('id')!r}", error))
        return FetchResult(posts, state.encode(), skipped, exhausted, self._take_notices())

    def _take_notices(self) -> list[str]:
        notices, self._notices = self._notices, []
        return notices

    def _read(self, state: FeedCursor | None, limit: int) -> tuple[list[dict[str, Any]], FeedCursor, bool]:
        if state is None:
            floor = self._now() - timedelta(hours=self.settings.backfill_hours)
            state = FeedCursor(floor_time=floor.isoformat())
        taken: list[dict[str, Any]] = []
        pages = 0
        held: RateLimited | None = None
        exhausted = True
        try:
            while len(taken) < limit:
                if state.newest is None:
                    page = self.latest()
                    pages += 1
                    if not page.records:
                        break
                    state.newest = page.newer_than
                    taken += self._fill(page, state)
                elif state.gap_top is not None:
                    taken += self._fill(self.older(state.gap_top), state)
                    pages += 1
                else:
                    page = self.newer(state.newest)
                    pages += 1
                    if not page.records:
                        break
                    if not page.reaches:
                        state.gap_top, state.gap_floor, state.pages = page.older_than, state.newest, 0
                    state.newest = page.newer_than
                    taken += page.records
            else:
                exhausted = False
        except RateLimited as error:
            log.info("%s: %s; continuing at the next poll", self.name, error)
            held = error
        notice = self._stall.after_poll(pages > 0, held)
        if notice:
            self.notice(notice)
        return taken, state, exhausted

    def _fill(self, page: Page, state: FeedCursor) -> list[dict[str, Any]]:
        """Take a backward page's records that lie inside the gap, closing the gap at its floor."""
        floor_time = parse_time(state.floor_time, "floor_time") if state.floor_time else None
        keep = [
            record
            for record in page.records
            if (state.gap_floor is None or newer(str(record["id"]), state.gap_floor))
            and (floor_time is None or _time_of(record) >= floor_time)
        ]
        state.pages += 1
        out_of_pages = state.gap_floor is None and state.pages >= self.settings.backfill_pages
        # the page's oldest record decides whether the floor is reached: one odd timestamp does not
        reached = bool(page.records) and (
            (state.gap_floor is not None and not newer(str(page.records[-1]["id"]), state.gap_floor))
            or (floor_time is not None and _time_of(page.records[-1]) < floor_time)
        )
        if not page.records or reached or out_of_pages or page.older_than is None:
            if out_of_pages and not reached:
                log.info("%s: backfill stopped after %d pages", self.name, state.pages)
            state.gap_top = state.gap_floor = state.floor_time = None
            state.pages = 0
        else:
            state.gap_top = page.older_than
        return keep


def _time_of(record: dict[str, Any]) -> datetime:
    """A record's creation time for the backfill floor; an unreadable one counts as inside the window."""
    try:
        return parse_time(record.get("created_at"), "created_at")
    except RecordError:
        return datetime.max.replace(tzinfo=UTC)


def page_from(records: list[dict[str, Any]], links: dict[str, str] | None = None, reaches: bool = True) -> Page:
    """A `Page` whose paging ids come from the Link header's min_id/max_id, else from the records."""
    links = links or {}
    ids = [str(record["id"]) for record in records if isinstance(record, dict) and "id" in record]
    if len(ids) != len(records):
        raise PlatformError("a page of records has an entry without an id; cannot page past it", retryable=True)
    return Page(
        records=records,
        newer_than=links.get("min_id") or (ids[0] if ids else None),
        older_than=links.get("max_id") or (ids[-1] if ids else None),
        reaches=reaches,
    )
