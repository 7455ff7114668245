"""Discourse: read `/posts.json` newest first, look users up when asked, and suspend or deactivate them.

The scopes below are Discourse's own (app/models/api_key_scope.rb): `/posts.json` and the admin
user view are covered by no granular scope but `global:read` (every GET); `users:show` covers the
public profile `/u/{username}.json` only; `users:suspend` covers suspending only. Unsuspend,
deactivate and activate are in no granular scope: they need a global key.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin

import msgspec

from domain.decisions import Action
from domain.models import Author, Post
from domain.records import RecordError, parse_post, parse_time
from platforms.base import ActionResult
from platforms.enforcing import attempt
from platforms.html_text import parse_html
from platforms.http import AuthError, HttpClient, PlatformError, RateLimited
from platforms.media import MediaHasher
from platforms.paging import FeedSettings, FeedSource, Page, newer, page_from

log = logging.getLogger(__name__)

READ_SCOPE = "global:read (Discourse has no granular scope for /posts.json)"
ADMIN_READ_SCOPE = "global:read, with an Api-Username that is an admin or moderator"
PROFILE_SCOPE = "users:show (or global:read)"
SUSPEND_SCOPE = "users:suspend (or a global key), with an Api-Username that is an admin or moderator"
GLOBAL_SCOPE = "a global key: Discourse has no granular scope for unsuspend, deactivate or activate"
REASON_LIMIT = 300
"""Discourse refuses a suspension reason longer than this ("Reason is too long", 400)."""

LETTER_AVATAR = re.compile(r"/letter_avatar(?:_proxy)?/|/v\d+/letter/")
"""Discourse's default (letter) avatar in each of its forms: `/letter_avatar/{user}/{size}/{v}.png`, the
external `/letter_avatar_proxy/v4/letter/{l}/{color}/{size}.png`, and hosted forums'
`https://avatars.discourse-cdn.com/v4/letter/{l}/{color}/{size}.png`, under a subfolder or a CDN too."""
_QUOTE = re.compile(r"\[quote(?:=[^\]]*)?\](?:(?!\[quote[=\]]).)*?\[/quote\]\s*", re.S | re.I)
"""The innermost `[quote=...]...[/quote]` block of a post's raw text."""


def headers(api_key: str, api_username: str) -> dict[str, str]:
    """Discourse's API authentication headers."""
    return {"Api-Key": api_key, "Api-Username": api_username}


def default_avatar(user: dict[str, Any]) -> bool | None:
    """Whether a user (or a post's author) shows Discourse's default avatar; None when nothing says.

    `uploaded_avatar_id` is null exactly when no avatar was uploaded (a user document gives it); a
    post gives only the avatar template, whose letter-avatar forms are recognised.
    """
    if "uploaded_avatar_id" in user:
        return user["uploaded_avatar_id"] is None
    template = user.get("avatar_template")
    return bool(LETTER_AVATAR.search(template)) if isinstance(template, str) and template else None


def own_raw(raw: str) -> str:
    """A post's raw text without what it quotes of other posts (nested quotes too)."""
    while True:
        shorter = _QUOTE.sub("", raw)
        if shorter == raw:
            return raw.strip()
        raw = shorter


class UserFacts:
    """Users' creation time, post count and avatar, looked up once each and remembered.

    The admin view (`/admin/users/{id}.json`) is asked first; where it is refused (a key without
    `global:read`, or an Api-Username that is not staff, answers 403 or 404) the public profile
    (`/u/{username}.json`) gives the same facts, and is used from then on.
    """

    def __init__(self, client: HttpClient, notice: Callable[[str], None]) -> None:
        self.client = client
        self._notice = notice
        self.known: dict[str, dict[str, Any]] = {}
        """Facts by user id; an empty entry for a user looked up who had none to give (deleted, say)."""
        self._public_only = False
        self._stopped = False

    def wants(self, author: Author) -> bool:
        """Whether a lookup may tell more about `author`: not done yet, and its posts lack a fact."""
        return (not self._stopped and author.id not in self.known
                and (author.created_at is None or author.posts_count is None))

    def look_up(self, authors: Sequence[Author]) -> list[Author]:
        """The authors a lookup told more about, as far as the lookup share of the request budget goes."""
        found = []
        for author in authors:
            try:
                facts = self._facts(author)
            except RateLimited as error:
                log.info("discourse: user lookups wait for the next poll: %s", error)
                break
            except AuthError as error:
                self._stopped = True
                self._notice(f"{error}. Users are no longer looked up; cards show no account ages.")
                break
            except PlatformError as error:
                log.info("discourse: user %s not looked up now: %s", author.id, error)
                continue
            self.known[author.id] = facts
            if facts:
                found.append(with_facts(author, facts))
        return found

    def _facts(self, author: Author) -> dict[str, Any]:
        if self._public_only:
            return self._profile(author)
        try:
            body, _ = self.client.json("GET", f"/admin/users/{quote(author.id, safe='')}.json",
                                       scope=ADMIN_READ_SCOPE, lookup=True)
        except PlatformError as error:
            if not (isinstance(error, AuthError) or error.status == 404):
                raise
            facts = self._profile(author)
            if facts:  # the user is there, so the admin view was refused, not missing
                self._public_only = True
                self._notice(f"{error}. Users' facts now come from their public profiles (/u/{{username}}.json: "
                             f"creation time, post count), which needs {PROFILE_SCOPE}.")
            return facts
        return _facts_of(body)

    def _profile(self, author: Author) -> dict[str, Any]:
        """The public profile's facts; empty when the user has none (deleted, or no username to ask by)."""
        if not author.handle:
            return {}
        try:
            body, _ = self.client.json("GET", f"/u/{quote(author.handle, safe='')}.json", scope=PROFILE_SCOPE,
                                       lookup=True)
        except PlatformError as error:
            if error.status == 404 and not isinstance(error, AuthError):
                return {}
            raise
        return _facts_of(body.get("user") if isinstance(body, dict) else None)


def _facts_of(user: Any) -> dict[str, Any]:
    """The facts Chorus keeps from a user document (admin or public), those with the right type only."""
    if not isinstance(user, dict):
        return {}
    facts: dict[str, Any] = {}
    with contextlib.suppress(RecordError):  # a missing or odd time is a fact the user document lacks
        facts["created_at"] = parse_time(user.get("created_at"), "created_at")
    if isinstance(user.get("post_count"), int):
        facts["posts_count"] = user["post_count"]
    avatar = default_avatar(user)
    if avatar is not None:
        facts["default_avatar"] = avatar
    return facts


def with_facts(author: Author, facts: dict[str, Any]) -> Author:
    """`author` with the looked-up facts in place of what its posts said."""
    return msgspec.structs.replace(author, **facts)


class DiscourseSource(FeedSource):
    """The forum's latest posts as posts; users' facts looked up only when the poller asks (see `Enriching`)."""

    name = "discourse"

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        feed: FeedSettings | None = None,
        *,
        enrich: bool = True,
        hasher: MediaHasher | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(feed or FeedSettings(), now)
        self.client = client
        self.base_url = base_url.rstrip("/") + "/"
        self._users = UserFacts(client, self.notice) if enrich else None
        self._hasher = hasher

    def latest(self) -> Page:
        """The newest posts."""
        return page_from(self._posts({}))

    def older(self, before_id: str) -> Page:
        """Posts with ids below `before_id`."""
        return page_from(self._posts({"before": before_id}))

    def newer(self, after_id: str) -> Page:
        """The newest posts above `after_id`; Discourse pages only backwards, so a full page may leave a gap."""
        posts = self._posts({})
        fresh = [post for post in posts if newer(str(post["id"]), after_id)]
        return page_from(fresh, reaches=len(fresh) < len(posts) or not posts)

    def _posts(self, params: dict[str, str]) -> list[dict[str, Any]]:
        body, _ = self.client.json("GET", "/posts.json", params=params, scope=READ_SCOPE)
        posts = body.get("latest_posts") if isinstance(body, dict) else None
        if not isinstance(posts, list):
            raise PlatformError("discourse GET /posts.json has no latest_posts list", retryable=True)
        return posts

    def wants_facts(self, author: Author) -> bool:
        """Whether a lookup could give `author`'s creation time or post count (a post gives neither)."""
        return self._users is not None and self._users.wants(author)

    def look_up(self, authors: Sequence[Author]) -> list[Author]:
        """The authors with their creation time, post count and avatar, as far as the lookup budget goes."""
        return self._users.look_up(authors) if self._users is not None else []

    def to_post(self, record: dict[str, Any]) -> Post:
        """A Discourse post as a post: the author's own `raw` text when given (quotes left out), else the
        author's own text of the cooked HTML; the author's links and images only."""
        content = parse_html(record.get("cooked") or "")
        raw = record.get("raw")
        post_url = record.get("post_url")
        user_id = record.get("user_id")
        if user_id is None:
            raise RecordError("post has no user_id")
        username = record.get("username")
        author = {
            "id": user_id,
            "handle": username,
            "display_name": record.get("name") or record.get("display_username"),
            "default_avatar": default_avatar(record),
            "url": urljoin(self.base_url, f"u/{username}") if username else None,
        }
        if self._users is not None:
            author.update(self._users.known.get(str(user_id), {}))
        return parse_post(
            {
                "id": record.get("id"),
                "created_at": record.get("created_at"),
                "text": own_raw(raw) if isinstance(raw, str) else content.text,
                "author": author,
                "media": self._media(content.images),
                "urls": content.links,
                "url": urljoin(self.base_url, post_url.lstrip("/")) if isinstance(post_url, str) else None,
            }
        )

    def _media(self, sources: list[str]) -> list[dict[str, Any]]:
        """A post's images, hashed when a hasher is configured (Discourse gives no content hash)."""
        images = []
        for src in sources:
            url = urljoin(self.base_url, src)
            sha256, phash = self._hasher.hashes(url) if self._hasher else (None, None)
            images.append({"url": url, "sha256": sha256, "phash": phash})
        return images


class DiscourseEnforcer:
    """Suspends (for `suspend_days`) or deactivates users, and undoes them, through the admin API."""

    reason_limit = REASON_LIMIT

    def __init__(self, client: HttpClient, suspend_days: int = 36500, now: Callable[[], datetime] | None = None):
        self.client = client
        self.suspend_days = suspend_days
        self._now = now or datetime.now

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Carry out `action` on the Discourse user `account_id`."""
        return attempt(action, account_id, lambda: self._send(action, account_id, reason))

    def in_effect(self, action: Action, account_id: str) -> bool | None:
        """Read the admin user: `suspended_till` and `active` say whether an action already holds; None when
        it cannot be read (the caller must then not act blindly)."""
        try:
            user, _ = self.client.json("GET", f"/admin/users/{quote(account_id, safe='')}.json",
                                       scope=ADMIN_READ_SCOPE)
        except PlatformError as error:
            log.warning("discourse: cannot read the state of user %s (%s)", account_id, error)
            return None
        if not isinstance(user, dict):
            return None
        if action in (Action.SUSPEND, Action.UNSUSPEND):
            suspended = bool(user.get("suspended_till"))
            return suspended if action is Action.SUSPEND else not suspended
        active = user.get("active")
        if not isinstance(active, bool):
            return None
        return not active if action is Action.REQUIRE_VERIFICATION else active

    def _send(self, action: Action, account_id: str, reason: str) -> str:
        path = f"/admin/users/{quote(account_id, safe='')}"
        if action is Action.SUSPEND:
            until = (self._now() + timedelta(days=self.suspend_days)).date().isoformat()
            body = {"suspend_until": until, "reason": reason or "coordinated posting"}
            try:
                self.client.request("PUT", f"{path}/suspend.json", json=body, scope=SUSPEND_SCOPE)
            except PlatformError as error:
                if error.status != 409:
                    raise
                return f"already suspended on Discourse ({error.said})"
            return f"suspended until {until}"
        endpoint, done = {
            Action.REQUIRE_VERIFICATION: ("deactivate", "deactivated until the user confirms their email again"),
            Action.UNSUSPEND: ("unsuspend", "unsuspended"),
            Action.LIFT_VERIFICATION: ("activate", "activated again"),
        }[action]
        self.client.request("PUT", f"{path}/{endpoint}.json", scope=GLOBAL_SCOPE)
        return done
