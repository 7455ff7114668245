"""The platform adapters' sections of the configuration: what each adapter is built with.

They live beside the adapters, which read them, and apart from them, so loading a configuration
imports no adapter (a jsonl run starts without Pillow). `service.config` validates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MastodonConfig:
    """Mastodon timeline choice and limits; base URL and token may also come from the environment."""

    base_url: str = ""
    timeline: str = "public"
    backfill_pages: int = 50
    budget_requests: int = 300
    budget_window_seconds: float = 900.0
    enrich_accounts: bool = True
    hash_media: bool = True
    notify_account: bool = True
    webhook_max_age_seconds: float = 3600.0
    """A webhook whose event is older than this is refused as a replay (the poll reads its post anyway)."""
    show_reports: bool = True
    find_siblings: bool = True
    sibling_margin_hours: float = 24.0
    """Siblings are looked for among accounts created this long before the cluster's first account to this long
    after its last."""


@dataclass(frozen=True)
class DiscourseConfig:
    """Discourse forum to poll and act on; the API key comes from DISCOURSE_API_KEY."""

    base_url: str = ""
    api_username: str = "system"
    backfill_pages: int = 20
    budget_requests: int = 50
    """Discourse allows 60 admin-API requests a minute across the site; the rest is left for actions."""
    budget_window_seconds: float = 60.0
    enrich_users: bool = True
    hash_media: bool = True
    suspend_days: int = 36500


@dataclass(frozen=True)
class HttpJsonConfig:
    """A generic JSON API: where posts are, how the cursor moves, the field map and the action requests."""

    base_url: str = ""
    posts_path: str = "/posts"
    records_path: str = ""
    cursor: str = "id"
    cursor_param: str = "since_id"
    cursor_field: str = ""
    limit_param: str = "limit"
    page_size: int = 100
    fields: dict[str, str] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    budget_requests: int = 300
    budget_window_seconds: float = 900.0
    hash_media: bool = False


@dataclass(frozen=True)
class BlueskyConfig:
    """Jetstream to read, the AppView for account facts, the Ozone to act through; URLs may come from the
    environment (BLUESKY_JETSTREAM_URL, BLUESKY_APPVIEW_URL, OZONE_URL), which overrides the file."""

    jetstream_url: str = "wss://jetstream2.us-east.bsky.network/subscribe"
    appview_url: str = "https://public.api.bsky.app"
    ozone_url: str = ""
    verify_label: str = "needs-verification"
    policies: list[str] = field(default_factory=list)
    buffer_posts: int = 50_000
    report_down_after_seconds: float = 120.0
    profile_cache_size: int = 100_000
    budget_requests: int = 3000
    budget_window_seconds: float = 300.0
    hash_thumbnails: bool = False
    thumbnail_url: str = "https://cdn.bsky.app/img/feed_thumbnail/plain/{did}/{cid}@jpeg"
