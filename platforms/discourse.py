"""Discourse: read `/posts.json` newest first, and suspend or deactivate users through the admin API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin

from domain.decisions import Action
from domain.models import Post
from domain.records import RecordError, parse_post
from platforms.base import ActionResult
from platforms.enforcing import attempt
from platforms.html_text import parse_html
from platforms.http import AuthError, HttpClient, PlatformError
from platforms.media import MediaHasher
from platforms.paging import FeedSettings, FeedSource, Page, newer, page_from

log = logging.getLogger(__name__)

READ_SCOPE = "an API key allowed to list posts (granular scope posts:list)"
USER_SCOPE = "an admin API key allowed to show users (granular scope users:show)"
ACT_SCOPE = "an admin API key whose Api-Username is an admin or moderator (granular scope users:suspend, or global)"


def headers(api_key: str, api_username: str) -> dict[str, str]:
    """Discourse's API authentication headers."""
    return {"Api-Key": api_key, "Api-Username": api_username}


class DiscourseSource(FeedSource):
    """The forum's latest posts as posts; users enriched from the admin API (creation time, counts)."""

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
        self._enrich = enrich
        self._hasher = hasher
        self._users: dict[str, dict[str, Any]] = {}

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

    def to_post(self, record: dict[str, Any]) -> Post:
        """A Discourse post as a post: `raw` text when given, else the cooked HTML as text."""
        content = parse_html(record.get("cooked") or "")
        raw = record.get("raw")
        post_url = record.get("post_url")
        user_id = record.get("user_id")
        if user_id is None:
            raise RecordError("post has no user_id")
        user = self._user(str(user_id))
        avatar = record.get("avatar_template") or ""
        return parse_post(
            {
                "id": record.get("id"),
                "created_at": record.get("created_at"),
                "text": raw if isinstance(raw, str) else content.text,
                "author": {
                    "id": user_id,
                    "handle": record.get("username"),
                    "display_name": record.get("name") or record.get("display_username"),
                    "created_at": user.get("created_at"),
                    "posts_count": user.get("post_count"),
                    "default_avatar": "letter_avatar" in avatar if avatar else None,
                    "url": urljoin(self.base_url, f"u/{record.get('username')}") if record.get("username") else None,
                },
                "media": self._media(content.images),
                "urls": content.links,
                "url": urljoin(self.base_url, post_url.lstrip("/")) if isinstance(post_url, str) else None,
            }
        )

    def _user(self, user_id: str) -> dict[str, Any]:
        """The admin view of a user (creation time, post count), cached; empty when not available."""
        if user_id in self._users or not self._enrich:
            return self._users.get(user_id, {})
        try:
            body, _ = self.client.json("GET", f"/admin/users/{quote(user_id, safe='')}.json", scope=USER_SCOPE)
        except AuthError as error:
            self._enrich = False
            self.notice(f"{error}. Users are no longer enriched from the admin API.")
            return {}
        except PlatformError as error:
            log.info("discourse: user %s not enriched: %s", user_id, error)
            return {}
        self._users[user_id] = body if isinstance(body, dict) else {}
        return self._users[user_id]

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

    def __init__(self, client: HttpClient, suspend_days: int = 36500, now: Callable[[], datetime] | None = None):
        self.client = client
        self.suspend_days = suspend_days
        self._now = now or datetime.now

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Carry out `action` on the Discourse user `account_id`."""
        return attempt(action, account_id, lambda: self._send(action, account_id, reason))

    def in_effect(self, action: Action, account_id: str) -> bool | None:
        """Read the admin user: `suspended_till` and `active` say whether an action already holds."""
        try:
            user, _ = self.client.json("GET", f"/admin/users/{quote(account_id, safe='')}.json", scope=USER_SCOPE)
        except PlatformError as error:
            log.warning("discourse: cannot read the state of user %s (%s); it will be acted on again", account_id,
                        error)
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
            self.client.request("PUT", f"{path}/suspend.json", json=body, scope=ACT_SCOPE)
            return f"suspended until {until}"
        endpoint, done = {
            Action.REQUIRE_VERIFICATION: ("deactivate", "deactivated until the user confirms their email again"),
            Action.UNSUSPEND: ("unsuspend", "unsuspended"),
            Action.LIFT_VERIFICATION: ("activate", "activated again"),
        }[action]
        self.client.request("PUT", f"{path}/{endpoint}.json", scope=ACT_SCOPE)
        return done
