"""Build the configured platform's `Source` and `Enforcer` from `source.kind`, in one place."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from platforms.base import Enforcer, Source
from platforms.enforcing import DoneKeys, OnceOnly
from platforms.http import HttpClient, RequestBudget
from platforms.jsonl import JsonlOutbox, JsonlSource
from service.config import Config, ConfigError, bluesky_urls

# The HTTP adapters are imported only for their own kind: a jsonl run starts without Pillow and numpy.


def _client(
    config: Config, kind: str, *, budgeted: bool, now: Callable[[], float], sleep: Callable[[float], None]
) -> HttpClient:
    """An HTTP client for `kind` with its base URL and credentials; polling clients also get the request budget."""
    secrets = config.secrets
    if kind == "mastodon":
        section = config.mastodon
        base_url = section.base_url or secrets.mastodon_base_url
        token = secrets.mastodon_access_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
    elif kind == "discourse":
        from platforms.discourse import headers as discourse_headers

        section = config.discourse
        base_url = section.base_url or secrets.discourse_base_url
        if not secrets.discourse_api_key:
            raise ConfigError("DISCOURSE_API_KEY is required when source.kind is discourse")
        username = secrets.discourse_api_username or config.discourse.api_username
        headers = discourse_headers(secrets.discourse_api_key, username)
    elif kind == "http_json":
        section = config.http_json
        base_url = section.base_url
        token = secrets.http_json_token
        scheme = f"{section.auth_scheme} " if section.auth_scheme else ""
        headers = {section.auth_header: f"{scheme}{token}"} if token else {}
    else:
        raise ConfigError(f"source.kind = {kind!r} has no adapter (jsonl, mastodon, discourse, http_json, bluesky)")
    budget = RequestBudget(section.budget_requests, section.budget_window_seconds, now) if budgeted else None
    return HttpClient(kind, base_url, config.http, headers=headers, budget=budget, now=now, sleep=sleep)


def build_source(
    config: Config, now: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep
) -> Source:
    """The `Source` for `source.kind`; the first start backfills over the detection window."""
    kind = config.source.kind
    if kind == "jsonl":
        return JsonlSource(config.source.path)
    if kind == "bluesky":
        return _bluesky_source(config, now, sleep)
    from platforms.media import MediaHasher
    from platforms.paging import FeedSettings

    client = _client(config, kind, budgeted=True, now=now, sleep=sleep)
    window = config.detection.window_hours
    if kind == "mastodon":
        from platforms.mastodon import MastodonSource

        section = config.mastodon
        return MastodonSource(
            client,
            section.timeline,
            FeedSettings(window, section.backfill_pages),
            enrich=section.enrich_accounts and bool(config.secrets.mastodon_access_token),
            hasher=MediaHasher(config.http) if section.hash_media else None,
        )
    if kind == "discourse":
        from platforms.discourse import DiscourseSource

        section = config.discourse
        return DiscourseSource(
            client,
            section.base_url or config.secrets.discourse_base_url,
            FeedSettings(window, section.backfill_pages),
            enrich=section.enrich_users,
            hasher=MediaHasher(config.http) if section.hash_media else None,
        )
    from platforms.http_json import HttpJsonSource

    section = config.http_json
    return HttpJsonSource(client, section, MediaHasher(config.http) if section.hash_media else None)


def build_enforcer(
    config: Config,
    done: DoneKeys | None = None,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Enforcer:
    """The `Enforcer` for `source.kind`, acting at most once per idempotency key (`done` may be storage)."""
    kind = config.source.kind
    if kind == "jsonl":
        return OnceOnly(JsonlOutbox(config.source.outbox), done)
    if kind == "bluesky":
        return OnceOnly(_ozone_enforcer(config, now, sleep), done)
    client = _client(config, kind, budgeted=False, now=now, sleep=sleep)
    enforcer: Enforcer
    if kind == "mastodon":
        from platforms.mastodon import MastodonEnforcer

        enforcer = MastodonEnforcer(client, config.mastodon.notify_account)
    elif kind == "discourse":
        from platforms.discourse import DiscourseEnforcer

        enforcer = DiscourseEnforcer(client, config.discourse.suspend_days)
    else:
        from platforms.http_json import HttpJsonEnforcer

        enforcer = HttpJsonEnforcer(client, config.http_json.actions)
    return OnceOnly(enforcer, done)


def _bluesky_source(config: Config, now: Callable[[], float], sleep: Callable[[float], None]) -> Source:
    """Jetstream read by a background thread, authors from the AppView (budgeted, cached)."""
    from platforms.bluesky import BlueskySource, JetstreamSettings, ProfileCache

    section, http = config.bluesky, config.http
    jetstream, appview, _ = bluesky_urls(config)
    budget = RequestBudget(section.budget_requests, section.budget_window_seconds, now)
    client = HttpClient("bluesky", appview, http, budget=budget, now=now, sleep=sleep)
    hasher = None
    if section.hash_thumbnails:
        from platforms.media import MediaHasher

        hasher = MediaHasher(http)
    settings = JetstreamSettings(jetstream, section.buffer_posts, section.report_down_after_seconds,
                                 http.backoff_seconds, http.backoff_max_seconds, http.timeout_seconds,
                                 thumbnail_url=section.thumbnail_url)
    return BlueskySource(settings, ProfileCache(client, section.profile_cache_size), hasher=hasher)


def _ozone_enforcer(config: Config, now: Callable[[], float], sleep: Callable[[float], None]) -> Enforcer:
    """Ozone with HTTP Basic `admin` and OZONE_ADMIN_PASSWORD, or OZONE_SERVICE_TOKEN as a bearer token."""
    from platforms.ozone import NoOzone, OzoneEnforcer

    _, _, ozone = bluesky_urls(config)
    secrets = config.secrets
    if not ozone:
        return NoOzone()
    if secrets.ozone_service_token:
        authorization = f"Bearer {secrets.ozone_service_token}"
    else:
        authorization = "Basic " + base64.b64encode(f"admin:{secrets.ozone_admin_password}".encode()).decode()
    client = HttpClient("ozone", ozone, config.http, headers={"Authorization": authorization}, now=now, sleep=sleep)
    section = config.bluesky
    return OzoneEnforcer(client, secrets.ozone_moderator_did, section.verify_label, section.policies)
