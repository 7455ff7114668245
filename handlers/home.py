"""App Home: each user's Home tab published when they open it, and kept current while the queue changes.

`HomeTabs` keeps, for every user who opened Home since the start, their filters and page, and a worker
that re-publishes the Homes whose content changed: when told (a decision, a claim), and when the
queue's fingerprint in storage moves (a new card, another process). Publishing goes through the send
queue's own views.publish lane, paced at `slack.send_interval_seconds` (one a second by default, well
inside views.publish's Tier 4 of 100+ a minute), 429s waited out; a view identical to the one last
published is not sent again. The listeners below only translate clicks into `HomeTabs` calls.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.views import View

from domain.queue import ClaimFilter, QueueFilter
from domain.views import Digest, Severity
from handlers import ids
from handlers.context import Chorus
from handlers.home_blocks import QUEUE_PAGE_SIZE, moderator_home_view, parse_home_state, visitor_home_view
from handlers.moderators import Moderators
from handlers.notifier import upload_chart
from handlers.send_queue import SendQueue
from service.queue import moderator_home
from storage import Store

log = logging.getLogger("chorus.slack.home")

RENDER_EVERY_SECONDS = 600.0
"""Every open Home is rendered again this often even if storage did not change, so waiting times stay true
(an unchanged view is not published)."""
CHART_EVERY = timedelta(hours=1)
"""The week's chart is uploaded again at most this often."""


@dataclass(frozen=True)
class HomeState:
    """What one user looks at: their filters and page."""

    filters: QueueFilter = field(default_factory=QueueFilter)
    page: int = 0


class HomeTabs:
    """Publishes Home tabs: at once for a user who opened or clicked, and again whenever the queue changes."""

    def __init__(self, store: Store, sender: SendQueue, moderators: Moderators,
                 unclaimed_after: timedelta | None = None, check_seconds: float = 5.0) -> None:
        self.store = store
        self.sender = sender
        self.moderators = moderators
        self.unclaimed_after = unclaimed_after
        self.check_seconds = check_seconds
        self._states: dict[str, HomeState] = {}
        self._shown: dict[str, str] = {}
        self._due: dict[str, str] = {}  # user -> notice, in the order they should be published
        self._chart: tuple[datetime, str] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name="slack-home", daemon=True)
        self._worker.start()

    def opened(self, user_id: str, view: dict[str, Any] | None = None) -> None:
        """A user opened their Home: publish it now, in the filters their last Home carried (after a restart too)."""
        with self._lock:
            if user_id not in self._states:
                filters, page = parse_home_state((view or {}).get("private_metadata"))
                self._states[user_id] = HomeState(filters, page)
            self._shown.pop(user_id, None)  # Slack may show an older one than we last sent: always send
        self.show(user_id)

    def show(self, user_id: str, notice: str = "", view: dict[str, Any] | None = None) -> None:
        """Publish a user's Home next, with `notice` at the top."""
        with self._lock:
            self._states.setdefault(user_id, HomeState(*parse_home_state((view or {}).get("private_metadata"))))
            self._due.pop(user_id, None)
            self._due = {user_id: notice, **self._due}
        self._wake.set()

    def change(self, user_id: str, view: dict[str, Any] | None, change: Callable[[HomeState], HomeState]) -> None:
        """Apply a filter or page change to a user's state (taken from the view they clicked in) and show it."""
        with self._lock:
            state = self._states.get(user_id) or HomeState(*parse_home_state((view or {}).get("private_metadata")))
            self._states[user_id] = change(state)
        self.show(user_id)

    def queue_changed(self, *_: object) -> None:
        """Something the queue shows changed: every open Home is rendered again (and published if it differs)."""
        with self._lock:
            for user_id in self._states:
                self._due.setdefault(user_id, "")
        self._wake.set()

    def close(self) -> None:
        """Stop the worker (what it is sending finishes or fails with the send queue)."""
        self._stop.set()
        self._wake.set()
        self._worker.join(10)

    def _run(self) -> None:
        seen: tuple | None = None
        while not self._stop.is_set():
            self._wake.wait(self.check_seconds)
            self._wake.clear()
            try:
                now = self.store.clock().timestamp()
                current = (self.store.queue_fingerprint(), int(now // RENDER_EVERY_SECONDS))
                if current != seen:
                    seen = current
                    self.queue_changed()
                while not self._stop.is_set() and (due := self._next_due()) is not None:
                    self._publish(*due)
            except Exception as error:  # Slack or the database failing: tried again after a pause
                log.warning("Home tabs not refreshed: %s: %s", type(error).__name__, error)
                self._stop.wait(self.check_seconds)

    def _next_due(self) -> tuple[str, str] | None:
        with self._lock:
            if not self._due:
                return None
            user_id = next(iter(self._due))
            return user_id, self._due.pop(user_id)

    def _publish(self, user_id: str, notice: str) -> None:
        try:
            view = self.render(user_id, notice)
        except Exception:
            with self._lock:  # publish it again later rather than lose the notice
                self._due.setdefault(user_id, notice)
            raise
        payload = view.to_dict()
        digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
        with self._lock:
            if self._shown.get(user_id) == digest:
                return
        self.sender.call("views.publish", user_id=user_id, view=payload)
        with self._lock:
            self._shown[user_id] = digest

    def render(self, user_id: str, notice: str = "") -> View:
        """The Home a user should see now: the queue for moderators, an explanation for anyone else."""
        if not self.moderators.includes(user_id):
            return visitor_home_view()
        with self._lock:
            state = self._states.get(user_id, HomeState())
        home = moderator_home(self.store, user_id, state.filters, state.page, QUEUE_PAGE_SIZE, self.store.clock(),
                              self.unclaimed_after)
        if home.page != state.page:
            with self._lock:
                self._states[user_id] = replace(state, page=home.page)
        return moderator_home_view(home, self._week_chart(home.week, home.now), notice)

    def _week_chart(self, week: Digest, now: datetime) -> str | None:
        """The week's chart, uploaded at most once an hour; None (and the Home goes without) if Slack refuses."""
        if self._chart and now - self._chart[0] < CHART_EVERY:
            return self._chart[1]
        try:
            file_id = upload_chart(self.sender, week, f"chorus-week-{now:%Y%m%d-%H%M}.png")
        except Exception as error:
            log.warning("the week's chart was not uploaded for Home: %s: %s", type(error).__name__, error)
            return self._chart[1] if self._chart else None
        self._chart = (now, file_id)
        return file_id


# -- listeners ---------------------------------------------------------------------------------------

def home_opened(event: dict[str, Any], context: BoltContext) -> None:
    """`app_home_opened` on the Home tab: publish the user's Home (the Messages tab needs nothing)."""
    chorus: Chorus = context["chorus"]
    if event.get("tab") == "home" and chorus.home is not None:
        chorus.home.opened(event["user"], event.get("view"))


FILTER_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    ids.HOME_FILTER_SEVERITY: lambda value: {"severity": None if value == ids.ALL else Severity(value)},
    ids.HOME_FILTER_PLATFORM: lambda value: {"platform": None if value == ids.ALL else value[:100]},
    ids.HOME_FILTER_CLAIMED: lambda value: {"claimed": ClaimFilter(value)},
}


def change_filter(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """A moderator picked a severity, platform or claim filter: back to the first page, shown at once."""
    ack()
    chorus: Chorus = context["chorus"]
    action = body["actions"][0]
    user_id = body["user"]["id"]
    if chorus.home is None or not chorus.moderators.includes(user_id):
        return
    try:
        fields = FILTER_FIELDS[action["action_id"]](action["selected_option"]["value"])
    except (KeyError, ValueError, TypeError):
        return  # Chorus offered no such value
    chorus.home.change(user_id, body.get("view"),
                       lambda state: HomeState(replace(state.filters, **fields), 0))


def change_page(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Previous or Next under the queue."""
    ack()
    chorus: Chorus = context["chorus"]
    user_id = body["user"]["id"]
    value = body["actions"][0].get("value", "")
    if chorus.home is None or not chorus.moderators.includes(user_id) or not (value.isascii() and value.isdigit()):
        return
    chorus.home.change(user_id, body.get("view"), lambda state: replace(state, page=int(value[:6])))


def register(app: App) -> None:
    """Wire the Home tab: its opening, the filters and the paging (Claim is the card's own listener)."""
    app.event("app_home_opened")(home_opened)
    for action_id in ids.HOME_FILTERS:
        app.action(action_id)(change_filter)
    for action_id in (ids.HOME_PAGE_PREVIOUS, ids.HOME_PAGE_NEXT):
        app.action(action_id)(change_page)
