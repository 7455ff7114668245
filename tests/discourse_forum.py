"""A fake Discourse forum for adapter tests: real recorded JSON, served under Discourse's own server rules.

What it serves was recorded from real servers (tests/fixtures/discourse, with licences and sources):
a live forum's page of `/posts.json` (50 real posts, their real cooked HTML with quotes, link
previews and uploads), the discourse_api gem's recordings, and the API docs' admin and public user
documents, each user's own values put in. What it enforces is Discourse's server code (read there,
not copied; the sources are named in tests/fixtures/discourse/README.md):

- `/posts.json` (PostsController#latest, LatestPostsQuery): newest first, 50 a page, `before=N`
  gives the posts with `id < N`, and a `before` of 0 or less is ignored.
- API keys: a request whose key is unknown, or whose scopes do not cover the route
  (ApiKeyScope.default_mappings, below), is refused with 403 `invalid_access`; admin routes answer
  404 unless the Api-Username is staff (an admin or a moderator).
- The admin API limiter: 60 requests a minute across the site for every request made with an API
  key (GlobalSetting.max_admin_api_reqs_per_minute); over it, 429 with Retry-After.
- Suspending (User::Suspend): `reason` present and at most 300 characters and `suspend_until`
  present, else 400 with `errors`; an already suspended user answers 409 with a `message`.
"""

from __future__ import annotations

import copy
import html
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.platform_server import Reply, Request

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "discourse"
PAGE_SIZE = 50
"""LatestPostsQuery::PAGE_SIZE."""
REASON_MAX = 300
"""User::Suspend's contract: `validates :reason, presence: true, length: { maximum: 300 }`."""
ADMIN_API_PER_MINUTE = 60
"""GlobalSetting.max_admin_api_reqs_per_minute's default."""
HOSTED_LETTER_AVATAR = "https://avatars.discourse-cdn.com/v4/letter/{letter}/{color}/{{size}}.png"
"""A hosted forum's letter avatar (external_system_avatars_url on Discourse's own hosting)."""

ROUTES = [
    ("GET", re.compile(r"/posts\.json"), "posts#latest"),
    ("GET", re.compile(r"/admin/users/(?P<id>\d+)\.json"), "admin/users#show"),
    ("GET", re.compile(r"/u/(?P<username>[^/]+)\.json"), "users#show"),
    ("PUT", re.compile(r"/admin/users/(?P<id>\d+)/suspend\.json"), "admin/users#suspend"),
    ("PUT", re.compile(r"/admin/users/(?P<id>\d+)/unsuspend\.json"), "admin/users#unsuspend"),
    ("PUT", re.compile(r"/admin/users/(?P<id>\d+)/deactivate\.json"), "admin/users#deactivate"),
    ("PUT", re.compile(r"/admin/users/(?P<id>\d+)/activate\.json"), "admin/users#activate"),
]
"""The routes Chorus uses, with the controller action Discourse routes each to."""
SCOPE_ACTIONS = {
    "users:show": {"users#show"},
    "users:suspend": {"admin/users#suspend"},
    "users:list": {"admin/users#index"},
    "users:log_out": {"admin/users#log_out"},
    "users:delete": {"admin/users#destroy"},
    "topics:read": {"topics#show", "topics#feed", "topics#posts"},
    "posts:edit": {"posts#update"},
}
"""What each granular scope covers among the actions above and near them (api_key_scope.rb): none covers
posts#latest, admin/users#show, #unsuspend, #deactivate or #activate; `global:read` covers every GET."""
NOT_PERMITTED = "You are not permitted to view the requested resource. The API username or key is invalid."
NOT_FOUND = "The requested URL or resource could not be found."


def fixture(*parts: str) -> Any:
    """A recorded JSON document from tests/fixtures/discourse."""
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


def recorded_page() -> list[dict[str, Any]]:
    """The 50 real posts of a live forum's `/posts.json`, newest first."""
    return fixture("forum", "posts.json")["latest_posts"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ForumUser:
    """A user as the forum keeps it."""

    id: int
    username: str
    created_at: datetime
    post_count: int = 1
    trust_level: int = 0
    avatar_template: str = "/letter_avatar_proxy/v4/letter/u/8797f3/{size}.png"
    uploaded_avatar_id: int | None = None
    staff: bool = False
    active: bool = True
    suspended_till: datetime | None = None
    suspended_at: datetime | None = None
    suspended_by: str = ""
    suspend_reason: str = ""


class Forum:
    """The forum's posts and users, answering like Discourse (install with `server.fallback(forum)`).

    `keys` maps each API key to its scopes (None: a global key). `served` counts the requests answered
    by route; `refused` lists (status, path) of those refused.
    """

    def __init__(self, clock: Callable[[], float] = time.time, keys: dict[str, list[str] | None] | None = None,
                 staff: str = "system") -> None:
        self.clock = clock
        self.keys = keys if keys is not None else {"k3y": None}
        self.posts: list[dict[str, Any]] = []
        self.users: dict[int, ForumUser] = {}
        self.served: Counter[str] = Counter()
        self.refused: list[tuple[int, str]] = []
        self._api_requests: deque[float] = deque()
        self._lock = threading.Lock()
        self._template = next(post for post in recorded_page() if "<aside" not in post["cooked"])
        self.add_user(ForumUser(-1, staff, datetime(2019, 1, 1, tzinfo=UTC), trust_level=4, staff=True,
                                avatar_template="/images/discourse-logo-sketch-small.png", uploaded_avatar_id=1))

    # -- what is on the forum ---------------------------------------------------------------------

    def add_user(self, user: ForumUser) -> ForumUser:
        """Register a user."""
        self.users[user.id] = user
        return user

    def add_recorded(self, records: list[dict[str, Any]], joined: datetime) -> None:
        """Real recorded posts, with their authors registered as users who joined at `joined` (a posts page
        does not say when users joined)."""
        for record in records:
            if record["user_id"] not in self.users:
                self.add_user(ForumUser(record["user_id"], record["username"], joined, post_count=0,
                                        trust_level=record.get("trust_level") or 0,
                                        avatar_template=record["avatar_template"],
                                        uploaded_avatar_id=None if "letter" in record["avatar_template"] else 1,
                                        staff=bool(record.get("staff"))))
            self.posts.append(copy.deepcopy(record))
            self.users[record["user_id"]].post_count += 1
        self.posts.sort(key=lambda post: post["id"], reverse=True)

    def post(self, user: ForumUser, text: str, at: datetime, cooked: str | None = None) -> dict[str, Any]:
        """A new post by `user`: a real recorded post's record with this author, text and time."""
        with self._lock:
            post_id = max((post["id"] for post in self.posts), default=0) + 1
            record = {**copy.deepcopy(self._template), "id": post_id, "user_id": user.id,
                      "username": user.username, "name": user.username, "display_username": user.username,
                      "avatar_template": user.avatar_template, "trust_level": user.trust_level,
                      "created_at": _iso(at), "updated_at": _iso(at), "raw": text,
                      "cooked": cooked if cooked is not None else f"<p>{html.escape(text)}</p>",
                      "post_url": f"/t/{self._template['topic_slug']}/{self._template['topic_id']}/{post_id}"}
            self.posts.insert(0, record)
            user.post_count += 1
        return record

    # -- answering --------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        for method, pattern, action in ROUTES:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                with self._lock:
                    reply = self._answer(request, action, match.groupdict())
                if reply.status >= 400:
                    self.refused.append((reply.status, request.path))
                else:
                    self.served[action] += 1
                return reply
        return Reply(404, {"errors": [NOT_FOUND], "error_type": "not_found"})

    def _answer(self, request: Request, action: str, params: dict[str, str]) -> Reply:
        key = request.headers.get("api-key")
        if key not in self.keys or not self._permits(self.keys[key], request.method, action):
            return Reply(403, {"errors": [NOT_PERMITTED], "error_type": "invalid_access"})
        caller = self._by_username(request.headers.get("api-username", ""))
        if caller is None or caller.suspended_till or not caller.active:
            return Reply(403, {"errors": [NOT_PERMITTED], "error_type": "invalid_access"})
        limited = self._rate_limited()
        if limited is not None:
            return limited
        if action.startswith("admin/") and not caller.staff:
            return Reply(404, {"errors": [NOT_FOUND], "error_type": "not_found"})
        if action == "posts#latest":
            return self._latest(request.query.get("before"))
        if action == "users#show":
            user = self._by_username(params["username"])
            return Reply(200, self._public(user)) if user else Reply(404, {"errors": [NOT_FOUND],
                                                                           "error_type": "not_found"})
        user = self.users.get(int(params["id"]))
        if user is None:
            return Reply(404, {"errors": [NOT_FOUND], "error_type": "not_found"})
        if action == "admin/users#show":
            return Reply(200, self._admin(user))
        if action == "admin/users#suspend":
            return self._suspend(user, request.json() if request.body else {}, caller)
        if action == "admin/users#unsuspend":
            user.suspended_till = user.suspended_at = None
            return Reply(200, {"suspension": {"suspended_till": None, "suspended_at": None}})
        user.active = action == "admin/users#activate"
        return Reply(200, {"success": "OK"})

    @staticmethod
    def _permits(scopes: list[str] | None, method: str, action: str) -> bool:
        if scopes is None:
            return True
        return any((scope == "global:read" and method == "GET") or action in SCOPE_ACTIONS.get(scope, ())
                   for scope in scopes)

    def _rate_limited(self) -> Reply | None:
        now = self.clock()
        while self._api_requests and self._api_requests[0] <= now - 60:
            self._api_requests.popleft()
        if len(self._api_requests) >= ADMIN_API_PER_MINUTE:
            wait = max(1, round(self._api_requests[0] + 60 - now))
            return Reply(429, {"errors": [f"You’ve performed this action too many times. Please wait {wait} seconds "
                                          "before trying again."], "error_type": "rate_limit",
                               "extras": {"wait_seconds": wait}},
                         {"retry-after": str(wait), "discourse-rate-limit-error-code": "admin_api_key_rate_limit"})
        self._api_requests.append(now)
        return None

    def _by_username(self, username: str) -> ForumUser | None:
        return next((u for u in self.users.values() if u.username.lower() == username.lower()), None)

    def _latest(self, before: str | None) -> Reply:
        last = int(before) if before and before.lstrip("-").isdigit() else 0
        posts = [post for post in self.posts if last <= 0 or post["id"] < last]
        return Reply(200, {"latest_posts": posts[:PAGE_SIZE]})

    def _suspend(self, user: ForumUser, body: dict[str, Any], caller: ForumUser) -> Reply:
        reason = str(body.get("reason") or "")
        errors = []
        if not reason.strip():
            errors.append("Reason can't be blank")
        elif len(reason) > REASON_MAX:
            errors.append(f"Reason is too long (maximum is {REASON_MAX} characters)")
        if not body.get("suspend_until"):
            errors.append("Suspend until can't be blank")
        if errors:
            return Reply(400, {"failed": "FAILED", "errors": errors})
        if user.suspended_till:
            return Reply(409, {"failed": "FAILED",
                               "message": f"User was already suspended by {user.suspended_by} just now."})
        now = datetime.fromtimestamp(self.clock(), UTC)
        user.suspended_till = datetime.fromisoformat(str(body["suspend_until"])).replace(tzinfo=UTC)
        user.suspended_at, user.suspended_by, user.suspend_reason = now, caller.username, reason
        return Reply(200, {"suspension": {"suspend_reason": reason, "full_suspend_reason": reason,
                                          "suspended_till": _iso(user.suspended_till), "suspended_at": _iso(now),
                                          "suspended_by": {"id": caller.id, "username": caller.username,
                                                           "name": caller.username,
                                                           "avatar_template": caller.avatar_template}}})

    def _admin(self, user: ForumUser) -> dict[str, Any]:
        """The recorded admin user document (AdminDetailedUserSerializer) with this user's values."""
        document = fixture("discourse_api_docs", "admin_get_user.json")
        suspended = user.suspended_till is not None
        document.update(
            id=user.id, username=user.username, username_lower=user.username.lower(), name=user.username,
            avatar_template=user.avatar_template, active=user.active, admin=user.staff, moderator=False,
            created_at=_iso(user.created_at), trust_level=user.trust_level, post_count=user.post_count,
            suspended=suspended, suspended_till=_iso(user.suspended_till) if suspended else None,
            suspended_at=_iso(user.suspended_at) if user.suspended_at else None,
            full_suspend_reason=user.suspend_reason or None,
            suspended_by={"id": -1, "username": user.suspended_by, "avatar_template": ""} if suspended else None,
        )
        return document

    def _public(self, user: ForumUser) -> dict[str, Any]:
        """The recorded public profile (UserSerializer) with this user's values; `suspended_till` only while
        suspended, `post_count` as current Discourse serves it."""
        document = fixture("discourse_api_docs", "get_user_response.json")
        document["user"].update(
            id=user.id, username=user.username, name=user.username, avatar_template=user.avatar_template,
            uploaded_avatar_id=user.uploaded_avatar_id, created_at=_iso(user.created_at),
            trust_level=user.trust_level, admin=user.staff, post_count=user.post_count,
        )
        if user.suspended_till is not None:
            document["user"]["suspended_till"] = _iso(user.suspended_till)
        return document


def campaign(forum: Forum, first_id: int, accounts: int, text: str, start: datetime,
             joined: datetime) -> list[ForumUser]:
    """`accounts` new users (ids from `first_id`, hosted letter avatars) who joined at `joined`, each posting
    `text` a minute apart from `start`."""
    users = []
    for index in range(accounts):
        name = f"fresh{first_id + index}"
        avatar = HOSTED_LETTER_AVATAR.format(letter="f", color="f08c70")
        user = forum.add_user(ForumUser(first_id + index, name, joined + timedelta(hours=index), post_count=0,
                                        avatar_template=avatar))
        forum.post(user, text, start + timedelta(minutes=index))
        users.append(user)
    return users
