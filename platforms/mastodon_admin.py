"""Mastodon's admin API beyond posts: open reports, local accounts' sign-ups (for siblings), local follows of a
remote domain, and domain blocks.

Reads spend only the request budget above the share kept for reading posts and give way to a rate limit at
once: what does not fit now is asked at a later poll. A token without a feature's scope is reported once,
naming the scope, and that feature is then left alone until Chorus restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from domain.admin import OpenReport, SignUp
from domain.records import RecordError, parse_time
from platforms.http import AuthError, HttpClient, PlatformError, RateLimited

log = logging.getLogger(__name__)

REPORTS = "/api/v1/admin/reports"
ACCOUNTS_V2 = "/api/v2/admin/accounts"
MEASURES = "/api/v1/admin/measures"
DOMAIN_BLOCKS = "/api/v1/admin/domain_blocks"
REPORTS_SCOPE = "the admin:read:reports scope"
ACCOUNTS_SCOPE = "the admin:read:accounts scope (and a user whose role may manage users)"
MEASURES_SCOPE = "the admin:read scope (for /api/v1/admin/measures; a role that may view the dashboard)"
BLOCKS_READ_SCOPE = "the admin:read:domain_blocks scope (and a role that may manage federation)"
BLOCKS_WRITE_SCOPE = "the admin:write:domain_blocks scope (and a role that may manage federation)"
PAGE_LIMIT = 200
"""The admin API's largest page of reports or accounts."""
REPORT_PAGES = 5
"""Open reports read per poll at most (1,000): a queue longer than that is shown as far as it was read."""
SIGN_UP_PAGES = 10
"""Local accounts read per sibling search at most (2,000 created in a cluster's creation window)."""
SEVERITY_RANK = {"noop": 0, "silence": 1, "suspend": 2}
"""Mastodon's domain block severities, weakest first."""


def snowflake_at(moment: datetime) -> str:
    """The smallest Mastodon id made at `moment`: ids are milliseconds since the epoch shifted 16 bits, so a range
    of them is a range of creation times (accounts and statuses alike)."""
    return str(int(moment.timestamp() * 1000) << 16)


def sign_up_of(record: dict[str, Any]) -> SignUp | None:
    """An Admin::Account as a sign-up: its first known IP (Mastodon's `user_ips` lists the sign-up IP at the
    account's creation time) and its e-mail's domain; None for a remote account or a malformed record."""
    if not isinstance(record, dict) or record.get("domain"):
        return None
    try:
        created = parse_time(record.get("created_at"), "created_at")
    except RecordError:
        return None
    ips = [entry for entry in record.get("ips") or [] if isinstance(entry, dict) and entry.get("ip")]
    ips.sort(key=lambda entry: str(entry.get("used_at") or ""))
    ip = ips[0]["ip"] if ips else record.get("ip") if isinstance(record.get("ip"), str) else None
    email = record.get("email") if isinstance(record.get("email"), str) else ""
    account = record.get("account") if isinstance(record.get("account"), dict) else {}
    posts = account.get("statuses_count")
    return SignUp(str(record.get("id")), str(account.get("acct") or record.get("username") or record.get("id")),
                  created, ip, email.rpartition("@")[2].lower() or None if "@" in email else None,
                  posts if isinstance(posts, int) else None, account.get("url"))


class MastodonAdminReads:
    """The admin reads a `MastodonSource` offers beside its posts (`ReportReading`, `SiblingFinding`,
    `DomainFollowing`); it brings `client` and `notice`."""

    client: HttpClient
    notice: Callable[[str], None]

    def _admin_reads_init(self) -> None:
        self._refused: set[str] = set()
        """Features whose scope the token lacks: reported once, then not asked again."""

    def open_reports(self) -> list[OpenReport] | None:
        """Every unresolved report (up to REPORT_PAGES pages), or None when they cannot be read now."""
        found = []
        try:
            query = {"resolved": "false", "limit": PAGE_LIMIT}
            for page in self._admin_pages(REPORTS, query, REPORTS_SCOPE, REPORT_PAGES, "reports"):
                for report in page:
                    target = report.get("target_account") if isinstance(report, dict) else None
                    try:
                        found.append(OpenReport(str(report["id"]), str(target["id"]),
                                                parse_time(report.get("created_at"), "created_at"),
                                                str(report.get("category") or "")))
                    except (KeyError, TypeError, RecordError):
                        log.info("mastodon: a report without an id, target or time was passed over")
        except _Unavailable:
            return None
        return found

    def sign_ups(self, account_ids: Sequence[str]) -> list[SignUp] | None:
        """The sign-up details of the local ones of `account_ids`, read one by one (the admin account view)."""
        found = []
        for account_id in account_ids:
            try:
                record = self._admin_read(f"/api/v1/admin/accounts/{quote(account_id, safe='')}", {}, ACCOUNTS_SCOPE,
                                    "siblings")
            except _Unavailable:
                return None
            sign_up = sign_up_of(record) if record is not None else None
            if sign_up is not None:
                found.append(sign_up)
        return found

    def local_sign_ups(self, since: datetime, until: datetime) -> list[SignUp] | None:
        """Local accounts created between `since` and `until` (any status, dormant ones too): the v2 admin list
        bounded by the ids those times give, newest first, up to SIGN_UP_PAGES pages."""
        params = {"origin": "local", "since_id": snowflake_at(since), "max_id": snowflake_at(until),
                  "limit": PAGE_LIMIT}
        try:
            pages = self._admin_pages(ACCOUNTS_V2, params, ACCOUNTS_SCOPE, SIGN_UP_PAGES, "siblings")
            return [sign_up for page in pages for record in page if (sign_up := sign_up_of(record)) is not None]
        except _Unavailable:
            return None

    def local_follows(self, domain: str) -> int | None:
        """Follows local accounts have of accounts on `domain` (the `instance_follows` measure, whose total is not
        bounded by its dates)."""
        today = datetime.now(UTC).date().isoformat()
        form = {"keys[]": "instance_follows", "instance_follows[domain]": domain, "start_at": today, "end_at": today}
        try:
            body = self._admin_read(MEASURES, form, MEASURES_SCOPE, "follows", method="POST")
        except _Unavailable:
            return None
        measure = next((m for m in body or [] if isinstance(m, dict) and m.get("key") == "instance_follows"), None)
        total = str((measure or {}).get("total", ""))
        return int(total) if total.isdigit() else None

    def _admin_pages(self, path: str, params: dict[str, Any], scope: str, pages: int,
               feature: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of an admin list, following the Link header's rel="next"."""
        params = dict(params)
        for _ in range(pages):
            body, response = self._admin_request(path, params, scope, feature)
            if not isinstance(body, list) or not body:
                return
            yield body
            next_url = response.links.get("next", {}).get("url")
            if not next_url or len(body) < int(params.get("limit", PAGE_LIMIT)):
                return
            params = dict(parse_qsl(urlsplit(next_url).query))
        log.info("mastodon: %s read as far as %d pages go", path, pages)

    def _admin_read(self, path: str, params: dict[str, Any], scope: str, feature: str, method: str = "GET") -> Any:
        return self._admin_request(path, params, scope, feature, method)[0]

    def _admin_request(self, path: str, params: dict[str, Any], scope: str, feature: str,
                            method: str = "GET") -> tuple[Any, Any]:
        """One admin read as a lookup; `_Unavailable` when it cannot be made now (rate limit, outage) or at all
        (the scope is missing: reported once)."""
        if feature in self._refused:
            raise _Unavailable
        try:
            if method == "GET":
                return self.client.json("GET", path, params=params, scope=scope, lookup=True)
            return self.client.json(method, path, data=params, scope=scope, lookup=True)
        except AuthError as error:
            self._refused.add(feature)
            self.notice(f"{error}. {STOPPED[feature]}")
            raise _Unavailable from None
        except RateLimited as error:
            log.info("mastodon: %s wait for the next poll: %s", feature, error)
            raise _Unavailable from None
        except PlatformError as error:
            if error.status == 404 and method == "GET" and path.startswith("/api/v1/admin/accounts/"):
                return None, None
            log.warning("mastodon: %s not read now: %s", feature, error)
            raise _Unavailable from None


STOPPED = {
    "reports": "Open reports are no longer shown on cards until Chorus restarts.",
    "siblings": "Accounts sharing a cluster's sign-up details are no longer looked for until Chorus restarts.",
    "follows": "Cards no longer say how many local follows a remote domain has until Chorus restarts.",
}
"""What stops when a feature's scope is missing, said once with the refusal (which names the scope)."""


class _Unavailable(Exception):
    """An admin read that cannot be made now or at all; the caller asks again later (or never)."""
