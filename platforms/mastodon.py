"""Mastodon: read the public timeline, and suspend or disable accounts through the admin API."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import msgspec

from domain.admin import SignUp
from domain.decisions import ACCOUNT_ACTIONS, Action
from domain.models import Author, Post
from domain.records import RecordError, format_time, parse_post, parse_time
from platforms.base import ActionResult, Case
from platforms.enforcing import Unsupported, attempt
from platforms.html_text import parse_html
from platforms.http import AuthError, HttpClient, PlatformError, RateLimited
from platforms.mastodon_admin import (
    BLOCKS_READ_SCOPE,
    BLOCKS_WRITE_SCOPE,
    DOMAIN_BLOCKS,
    SEVERITY_RANK,
    MastodonAdminReads,
    sign_up_of,
)
from platforms.media import MediaHasher
from platforms.paging import FeedSettings, FeedSource, FeedUnavailable, Page, page_from

log = logging.getLogger(__name__)

TIMELINE = "/api/v1/timelines/public"
PAGE_SIZE = 40
"""Mastodon's largest timeline page."""
FEEDS = {"public": ("local", "remote"), "local": ("local",), "remote": ("remote",)}
READ_SCOPE = "the read:statuses scope"
ENRICH_SCOPE = "the admin:read:accounts scope (and a user whose role may manage users)"
ACT_SCOPE = "the admin:write:accounts scope (and a user whose role may manage users)"


def link_ids(response: httpx.Response) -> dict[str, str]:
    """The `max_id` of the Link header's rel="next" and the `min_id` of its rel="prev"."""
    found = {}
    for rel, param in (("next", "max_id"), ("prev", "min_id")):
        url = response.links.get(rel, {}).get("url")
        values = parse_qs(urlsplit(url).query).get(param) if url else None
        if values:
            found[param] = values[0]
    return found


class MastodonSource(FeedSource, MastodonAdminReads):
    """Statuses of the public (or local, or remote) timeline as posts; backfills once, then follows.

    A status carries its account's creation day (rounded to midnight) and counts; the admin API's
    exact creation time is looked up only when the poller asks, for accounts of candidate groups.
    Beside posts it reads the admin API's open reports, sign-ups and domain follows (`MastodonAdminReads`).
    """

    name = "mastodon"

    def __init__(
        self,
        client: HttpClient,
        timeline: str = "public",
        feed: FeedSettings | None = None,
        *,
        enrich: bool = False,
        hasher: MediaHasher | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(feed or FeedSettings(), now)
        self.client = client
        self.timeline = timeline
        self._params = {feed_name: "true" for feed_name in FEEDS[timeline]} if timeline != "public" else {}
        self._enrich = enrich
        self._hasher = hasher
        self._created: dict[str, datetime | None] = {}
        """Accounts looked up in the admin view, and the exact creation time it gave."""
        self._signed_up: dict[str, SignUp] = {}
        """The sign-up details those lookups gave for local accounts, kept in memory for sibling searches."""
        self._disabled: list[str] | None = None
        self._admin_reads_init()

    def latest(self) -> Page:
        """The newest page; on the first call, check the instance has not switched the feed off."""
        if self._disabled is None:
            self._disabled = self._disabled_feeds()
        page = self._page({})
        if self._disabled and not page.records:
            raise FeedUnavailable(
                f"the Mastodon instance has disabled its {' and '.join(self._disabled)} live feed "
                "(configuration.timelines_access.live_feeds in /api/v2/instance) and this token sees no posts "
                "there: ask its admins to enable the feed, or use a token of a user whose role may view feeds"
            )
        if self._disabled and len(self._disabled) < len(FEEDS[self.timeline]):
            self.notice(f"the Mastodon instance has disabled its {self._disabled[0]} live feed; its posts are not read")
        return page

    def older(self, before_id: str) -> Page:
        """The page below `before_id` (max_id)."""
        return self._page({"max_id": before_id})

    def newer(self, after_id: str) -> Page:
        """The page just above `after_id` (min_id): contiguous, so no gap is ever left."""
        return self._page({"min_id": after_id})

    def _page(self, extra: dict[str, str]) -> Page:
        try:
            body, response = self.client.json(
                "GET", TIMELINE, params={**self._params, "limit": PAGE_SIZE, **extra}, scope=READ_SCOPE
            )
        except PlatformError as error:
            if error.status == 422:
                raise FeedUnavailable(
                    f"{error} (the instance lets only logged-in users read this timeline: "
                    "set MASTODON_ACCESS_TOKEN to a token with read:statuses)"
                ) from None
            raise
        if not isinstance(body, list):
            raise PlatformError(
                f"mastodon GET {TIMELINE} returned a {type(body).__name__} where a list of statuses was expected",
                retryable=True,
            )
        return page_from(body, link_ids(response))

    def _disabled_feeds(self) -> list[str]:
        """Which of the wanted live feeds the instance reports as disabled (none if it does not say)."""
        try:
            instance, _ = self.client.json("GET", "/api/v2/instance")
        except AuthError:
            raise
        except PlatformError as error:
            log.info("mastodon: cannot read /api/v2/instance (%s); assuming the feed is on", error)
            return []
        access = (((instance or {}).get("configuration") or {}).get("timelines_access") or {}).get("live_feeds")
        if not isinstance(access, dict):
            return []
        return [feed for feed in FEEDS[self.timeline] if access.get(feed) == "disabled"]

    def to_post(self, record: dict[str, Any]) -> Post:
        """A status as a post; a boost is the booster's post of the original's text, with `repost_of` set."""
        shown = record.get("reblog") or record
        content = parse_html(shown.get("content") or "")
        text = content.text
        if shown.get("spoiler_text"):
            text = f"{shown['spoiler_text']}\n\n{text}".strip()
        return parse_post(
            {
                "id": record.get("id"),
                "created_at": record.get("created_at"),
                "text": text,
                "author": self._author(record.get("account")),
                "media": [self._media(item) for item in shown.get("media_attachments") or []],
                "urls": content.links,
                "repost_of": record["reblog"].get("id") if record.get("reblog") else None,
                "reply_to": record.get("in_reply_to_id"),
                "url": record.get("url") or record.get("uri"),
                "lang": record.get("language"),
            }
        )

    def _author(self, account: Any) -> dict[str, Any]:
        if not isinstance(account, dict):
            raise RecordError("status has no account object")
        avatar = account.get("avatar_static") or account.get("avatar") or ""
        author = {
            "id": account.get("id"),
            "handle": account.get("acct"),
            "display_name": account.get("display_name"),
            "created_at": account.get("created_at"),
            "posts_count": account.get("statuses_count"),
            "followers_count": account.get("followers_count"),
            "following_count": account.get("following_count"),
            "default_avatar": avatar.endswith("/missing.png") if avatar else None,
            "url": account.get("url"),
        }
        exact = self._created.get(str(account.get("id")))
        if exact is not None:
            author["created_at"] = format_time(exact)
        return author

    def wants_facts(self, author: Author) -> bool:
        """Whether the admin API could give `author`'s exact creation time: its status gave only the day."""
        return (self._enrich and author.id not in self._created
                and (author.created_at is None or author.created_at.time() == time(0)))

    def look_up(self, authors: Sequence[Author]) -> list[Author]:
        """The authors with the exact creation time of the admin view, as far as the lookup budget goes."""
        found = []
        for author in authors:
            if not self._enrich:
                break
            try:
                body, _ = self.client.json("GET", _admin_path(author.id), scope=ENRICH_SCOPE, lookup=True)
            except RateLimited as error:
                log.info("mastodon: account lookups wait for the next poll: %s", error)
                break
            except AuthError as error:
                self._enrich = False
                self._refused.add("siblings")  # the same scope: said once, here
                self.notice(f"{error}. Accounts are no longer looked up in the admin API, nor searched for siblings.")
                break
            except PlatformError as error:
                if error.status == 404:
                    self._created[author.id] = author.created_at
                log.info("mastodon: account %s not looked up now: %s", author.id, error)
                continue
            try:
                exact = parse_time(body.get("created_at") if isinstance(body, dict) else None, "created_at")
            except RecordError:
                exact = author.created_at  # the admin view has nothing better: do not ask again
            self._created[author.id] = exact
            sign_up = sign_up_of(body)
            if sign_up is not None:
                self._signed_up[author.id] = sign_up
            if exact != author.created_at:
                found.append(msgspec.structs.replace(author, created_at=exact))
        return found

    def sign_ups(self, account_ids: Sequence[str]) -> list[SignUp] | None:
        """The sign-up details of the local ones of `account_ids`: those account lookups already gave, the rest read."""
        known = [self._signed_up[a] for a in account_ids if a in self._signed_up]
        read = MastodonAdminReads.sign_ups(self, [a for a in account_ids if a not in self._signed_up])
        return None if read is None else known + read

    def wants_pushed(self, status: dict[str, Any]) -> bool:
        """Whether a status a webhook pushed is one the polled timeline holds: public, and local or remote as
        `timeline` says."""
        account = status.get("account") if isinstance(status.get("account"), dict) else {}
        remote = "@" in str(account.get("acct") or "")
        return status.get("visibility") == "public" and ("remote" if remote else "local") in FEEDS[self.timeline]

    def learn_sign_up(self, record: dict[str, Any]) -> SignUp | None:
        """Take an account's admin record pushed by an `account.created` webhook: its exact creation time and
        sign-up details need no lookup then."""
        sign_up = sign_up_of(record)
        if sign_up is not None:
            self._created[sign_up.account_id] = sign_up.created_at
            self._signed_up[sign_up.account_id] = sign_up
        return sign_up

    def _media(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise RecordError("a media attachment is not an object")
        url = item.get("url") or item.get("remote_url") or ""
        sha256 = phash = None
        if self._hasher is not None and url and item.get("type") == "image":
            sha256, phash = self._hasher.hashes(url)
        return {"url": url, "sha256": sha256, "phash": phash, "blurhash": item.get("blurhash")}


def _admin_path(account_id: str) -> str:
    return f"/api/v1/admin/accounts/{quote(account_id, safe='')}"


ACCOUNT_ACTION_TYPE = {Action.SUSPEND: "suspend", Action.REQUIRE_VERIFICATION: "disable", Action.LIMIT: "silence"}
"""The admin action `type` each account action sends."""
UNDO_PATH = {Action.UNSUSPEND: "unsuspend", Action.LIFT_VERIFICATION: "enable", Action.UNLIMIT: "unsilence"}
"""The admin endpoint that reverses each."""
DONE_DETAIL = {Action.SUSPEND: "suspended", Action.REQUIRE_VERIFICATION: "login disabled until an admin re-enables it",
               Action.LIMIT: "limited (silenced): hidden from everyone who does not follow it",
               Action.UNSUSPEND: "unsuspended", Action.LIFT_VERIFICATION: "login enabled again",
               Action.UNLIMIT: "no longer limited"}
STATE_FLAG = {Action.SUSPEND: "suspended", Action.UNSUSPEND: "suspended", Action.REQUIRE_VERIFICATION: "disabled",
              Action.LIFT_VERIFICATION: "disabled", Action.LIMIT: "silenced", Action.UNLIMIT: "silenced"}
"""The admin account's field that says whether each action holds."""
DOMAIN_SEVERITY = {Action.DOMAIN_SUSPEND: "suspend", Action.DOMAIN_LIMIT: "silence"}
CHORUS_BLOCK = "chorus "
"""How the private comment of a domain block Chorus made begins: Undo lifts only such blocks."""


class MastodonEnforcer:
    """Suspends (type=suspend), limits (type=silence) or disables logins (type=disable) through the admin API, filed
    under the account's newest open report, blocks or limits whole remote domains, and undoes all of them."""

    account_actions = frozenset(ACCOUNT_ACTIONS)
    domain_actions = True

    def __init__(self, client: HttpClient, notify_account: bool = True) -> None:
        self.client = client
        self.notify_account = notify_account

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Carry out `action`; remote accounts get a clear unsupported result for disable/enable."""
        return self.act_on_case(action, account_id, reason, idempotency_key, None)

    def act_on_case(self, action: Action, account_id: str, reason: str, idempotency_key: str,
                    case: Case | None) -> ActionResult:
        """`act`, filing an account action under the account's newest open report (`report_id`), which Mastodon
        then resolves with every other open report about the account."""
        report = case.reports.get(account_id) if case is not None else None
        if action.on_domain:
            return attempt(action, account_id, lambda: self._domain(action, account_id, reason, idempotency_key))
        return attempt(action, account_id, lambda: self._send(action, account_id, reason, report))

    def in_effect(self, action: Action, account_id: str) -> bool | None:
        """Read the admin account (`suspended`, `silenced`, `disabled`) or the domain blocks: whether it holds."""
        if action.on_domain:
            try:
                block = self._block_of(account_id)
            except PlatformError as error:
                log.warning("mastodon: cannot read the domain blocks (%s); %s will be sent again", error, account_id)
                return None
            if action is Action.DOMAIN_UNBLOCK:
                return block is None
            return block is not None and SEVERITY_RANK.get(block.get("severity"), 0) >= SEVERITY_RANK[
                DOMAIN_SEVERITY[action]]
        try:
            account, _ = self.client.json("GET", _admin_path(account_id), scope=ENRICH_SCOPE)
        except PlatformError as error:
            log.warning("mastodon: cannot read the state of account %s (%s); it will be acted on again", account_id,
                        error)
            return None
        state = account.get(STATE_FLAG[action]) if isinstance(account, dict) else None
        if not isinstance(state, bool):
            return None
        return state if action in ACCOUNT_ACTION_TYPE else not state

    def _send(self, action: Action, account_id: str, reason: str, report: str | None) -> str:
        path = _admin_path(account_id)
        if action in (Action.REQUIRE_VERIFICATION, Action.LIFT_VERIFICATION):
            self._require_local(path, action)
        if action in ACCOUNT_ACTION_TYPE:
            form = {"type": ACCOUNT_ACTION_TYPE[action], "text": reason,
                    "send_email_notification": "true" if self.notify_account else "false"}
            if report:
                form["report_id"] = report
            self.client.request("POST", f"{path}/action", data=form, scope=ACT_SCOPE)
            return DONE_DETAIL[action] + (f"; report {report} and the account's other open reports resolved"
                                          if report else "")
        self.client.request("POST", f"{path}/{UNDO_PATH[action]}", scope=ACT_SCOPE)
        return DONE_DETAIL[action]

    def _domain(self, action: Action, domain: str, reason: str, idempotency_key: str) -> str:
        """Block or limit a remote domain (POST), or lift the block Chorus made (DELETE)."""
        if action is Action.DOMAIN_UNBLOCK:
            block = self._block_of(domain)
            if block is None:
                return f"{domain} was not blocked"
            if not str(block.get("private_comment") or "").startswith(CHORUS_BLOCK):
                raise Unsupported(f"the block on {domain} was not made by Chorus, so Undo leaves it in place: lift it "
                                  "in Mastodon's admin (Moderation > Federation) if you mean to")
            self.client.request("DELETE", f"{DOMAIN_BLOCKS}/{quote(str(block['id']), safe='')}",
                                scope=BLOCKS_WRITE_SCOPE)
            return f"the block on {domain} was lifted"
        severity = DOMAIN_SEVERITY[action]
        form = {"domain": domain, "severity": severity, "private_comment": f"{CHORUS_BLOCK}{idempotency_key}: {reason}"}
        try:
            self.client.request("POST", DOMAIN_BLOCKS, data=form, scope=BLOCKS_WRITE_SCOPE)
        except PlatformError as error:
            if error.status != 422:
                raise
            block = self._block_of(domain)
            if block is None or SEVERITY_RANK.get(block.get("severity"), 0) < SEVERITY_RANK[severity]:
                raise PlatformError(f"{domain} already has a weaker block ({error.said}); change it in Mastodon's "
                                    "admin (Moderation > Federation)", status=422, said=error.said) from None
            return f"{domain} was already {block.get('severity')}-blocked"
        return f"{domain} {'suspended' if severity == 'suspend' else 'limited'}: a domain block of severity {severity}"

    def _block_of(self, domain: str) -> dict[str, Any] | None:
        """The domain block on `domain`, if any (the list is paged by the Link header)."""
        params: dict[str, Any] = {"limit": 200}
        while True:
            blocks, response = self.client.json("GET", DOMAIN_BLOCKS, params=params, scope=BLOCKS_READ_SCOPE)
            for block in blocks if isinstance(blocks, list) else []:
                if isinstance(block, dict) and str(block.get("domain", "")).lower() == domain.lower():
                    return block
            after = link_ids(response).get("max_id")
            if not blocks or not after:
                return None
            params = {"limit": 200, "max_id": after}

    def _require_local(self, path: str, action: Action) -> None:
        """Refuse disable/enable on a remote account: Mastodon has no login to block there."""
        try:
            account, _ = self.client.json("GET", path, scope=ENRICH_SCOPE)
        except AuthError as error:
            log.info("mastodon: cannot tell whether %s is remote (%s); sending anyway", path, error)
            return
        domain = account.get("domain") if isinstance(account, dict) else None
        if domain:
            verb = "disable" if action is Action.REQUIRE_VERIFICATION else "re-enable"
            raise Unsupported(
                f"@{account.get('username')}@{domain} is a remote account: Mastodon can only {verb} "
                "the login of local accounts; suspend or limit it instead (that works for remote accounts)"
            )
