"""Configuration: a TOML file for settings, the environment for secrets, validated at start.

Every section is a dataclass whose fields are the only keys allowed; each value is checked
against the field's type and, where `CHECKS` has one, its range. Errors name the key.
"""

from __future__ import annotations

import os
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from detectors import DetectionSettings
from domain.decisions import ACCOUNT_ACTIONS, UNDO_OF
from domain.errors import UserError
from platforms.http import HttpSettings
from platforms.settings import BlueskyConfig, DiscourseConfig, HttpJsonConfig, MastodonConfig


class ConfigError(UserError, ValueError):
    """A configuration problem; the message names the key and says what is wrong."""


@dataclass(frozen=True)
class StorageConfig:
    """Where the SQLite database lives, and how long a write waits for another writer before failing."""

    path: str = "chorus.db"
    lock_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class SourceConfig:
    """Which platform to poll, how often, and where the jsonl source writes its actions."""

    kind: str = "jsonl"
    path: str = "posts.jsonl"
    poll_seconds: float = 60.0
    batch_size: int = 5000
    outbox: str = "actions.jsonl"


DEFAULT_POLICIES = ("platform-manipulation", "spam", "fake-accounts", "impersonation", "other")
"""Policy tags a moderator can attach to a decision from the review modal."""


@dataclass(frozen=True)
class SlackConfig:
    """Where cards go, who may decide on them, how decisions are guarded, and how fast to post.

    `two_person_threshold`: suspending more accounts than this needs a second moderator's approval.
    `undo_minutes`: how long a carried-out decision offers Undo. `send_interval_seconds`: the
    pause between messages to one channel; `retry_backoff_seconds`: the first wait after a 5xx;
    `timeout_seconds`: how long one Web API call may take before it counts as failed.
    `home_refresh_seconds`: how often open App Home tabs are checked against the queue in storage.
    `socket_ping_seconds`: Socket Mode's ping interval; a connection that died silently is replaced within
    about this long.
    """

    channel: str = ""
    moderators: list[str] = field(default_factory=list)
    moderator_group: str = ""
    port: int = 3000
    two_person_threshold: int = 25
    undo_minutes: float = 30.0
    send_interval_seconds: float = 1.0
    retry_backoff_seconds: float = 1.0
    timeout_seconds: float = 30.0
    policies: list[str] = field(default_factory=lambda: list(DEFAULT_POLICIES))
    home_refresh_seconds: float = 5.0
    socket_ping_seconds: float = 10.0


@dataclass(frozen=True)
class EnforcementConfig:
    """What moderators may do and whether it reaches the platform.

    `dry_run`: everything runs and cards are stamped "dry run: would have…", but nothing is sent to the platform.
    `actions`: the account actions cards offer (those the platform can carry out). `fingerprint_days`: how long a
    suspended campaign's image hashes and text signatures flag new posts (0: not remembered).
    """

    dry_run: bool = False
    actions: list[str] = field(default_factory=lambda: [str(a) for a in ACCOUNT_ACTIONS])
    fingerprint_days: float = 30.0


@dataclass(frozen=True)
class DigestConfig:
    """When digests are posted: cron-style times in a time zone, and the grace for missed runs.

    `unclaimed_hours`: an open cluster nobody claimed for longer than this is named in digests (0: never).
    """

    daily: str = "09:00"
    weekly: str = ""
    timezone: str = "UTC"
    channel: str = ""
    grace_minutes: float = 180.0
    unclaimed_hours: float = 4.0


@dataclass(frozen=True)
class RetentionConfig:
    """How long posts that belong to no flagged cluster are kept."""

    days: float = 30.0
    hour: int = 4


def _positive(value: float) -> bool:
    return value > 0


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _is_time(value: str) -> bool:
    hour, _, minute = value.partition(":")
    return hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60 and len(minute) == 2


def _is_weekly(value: str) -> bool:
    day, _, time = value.partition(" ")
    return day.lower() in WEEKDAYS and _is_time(time)


def _is_zone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


CHECKS: dict[tuple[str, str], tuple[Callable[[Any], bool], str]] = {
    ("storage", "lock_timeout_seconds"): (_positive, "a number of seconds > 0"),
    ("source", "kind"): (
        lambda v: v in {"jsonl", "mastodon", "discourse", "http_json", "bluesky"},
        "one of jsonl, mastodon, discourse, http_json, bluesky",
    ),
    ("source", "poll_seconds"): (_positive, "a number of seconds > 0"),
    ("source", "batch_size"): (_positive, "an integer > 0"),
    ("slack", "port"): (lambda v: 0 <= v < 65536, "a TCP port (1-65535), or 0 for any free one"),
    ("slack", "two_person_threshold"): (lambda v: v >= 1, "an integer >= 1"),
    ("slack", "undo_minutes"): (lambda v: v >= 0, "a number of minutes >= 0"),
    ("slack", "send_interval_seconds"): (lambda v: v >= 0, "a number of seconds >= 0"),
    ("slack", "retry_backoff_seconds"): (_positive, "a number of seconds > 0"),
    ("slack", "timeout_seconds"): (_positive, "a number of seconds > 0"),
    ("slack", "policies"): (lambda v: len(v) > 0, "a non-empty list of policy tags"),
    ("slack", "home_refresh_seconds"): (_positive, "a number of seconds > 0"),
    ("slack", "socket_ping_seconds"): (_positive, "a number of seconds > 0"),
    ("enforcement", "actions"): (
        lambda v: len(v) > 0 and set(v) <= {str(a) for a in ACCOUNT_ACTIONS} and len(set(v)) == len(v),
        "a non-empty list of distinct actions among " + ", ".join(ACCOUNT_ACTIONS),
    ),
    ("enforcement", "fingerprint_days"): (lambda v: v >= 0, "a number of days >= 0 (0: remember none)"),
    ("mastodon", "timeline"): (lambda v: v in {"public", "local", "remote"}, "public, local or remote"),
    ("mastodon", "backfill_pages"): (_positive, "an integer > 0"),
    ("mastodon", "budget_requests"): (_positive, "an integer > 0"),
    ("mastodon", "budget_window_seconds"): (_positive, "a number of seconds > 0"),
    ("mastodon", "webhook_max_age_seconds"): (_positive, "a number of seconds > 0"),
    ("mastodon", "sibling_margin_hours"): (lambda v: v >= 0, "a number of hours >= 0"),
    ("discourse", "backfill_pages"): (_positive, "an integer > 0"),
    ("discourse", "budget_requests"): (_positive, "an integer > 0"),
    ("discourse", "budget_window_seconds"): (_positive, "a number of seconds > 0"),
    ("discourse", "suspend_days"): (_positive, "a number of days > 0"),
    ("http_json", "cursor"): (lambda v: v in {"id", "timestamp", "opaque"}, "id, timestamp or opaque"),
    ("http_json", "page_size"): (_positive, "an integer > 0"),
    ("http_json", "budget_requests"): (_positive, "an integer > 0"),
    ("http_json", "budget_window_seconds"): (_positive, "a number of seconds > 0"),
    ("http_json", "actions"): (
        lambda v: set(v) <= {str(action) for action in (*ACCOUNT_ACTIONS, *(UNDO_OF[a] for a in ACCOUNT_ACTIONS))}
        and all(isinstance(a.get("url"), str) for a in v.values()),
        "a table of suspend / require_verification / limit / unsuspend / lift_verification / unlimit, each with a url",
    ),
    ("bluesky", "jetstream_url"): (lambda v: v.startswith(("ws://", "wss://")), "a ws:// or wss:// URL"),
    ("bluesky", "appview_url"): (lambda v: v.startswith(("http://", "https://")), "an http(s):// URL"),
    ("bluesky", "ozone_url"): (lambda v: v == "" or v.startswith(("http://", "https://")), 'an http(s):// URL, or ""'),
    ("bluesky", "verify_label"): (lambda v: 0 < len(v) <= 128, "a label value of 1-128 characters"),
    ("bluesky", "policies"): (lambda v: len(v) <= 5, "at most 5 Ozone policy names"),
    ("bluesky", "buffer_posts"): (lambda v: v >= 100, "an integer >= 100"),
    ("bluesky", "report_down_after_seconds"): (lambda v: v >= 0, "a number of seconds >= 0"),
    ("bluesky", "profile_cache_size"): (_positive, "an integer > 0"),
    ("bluesky", "budget_requests"): (_positive, "an integer > 0"),
    ("bluesky", "budget_window_seconds"): (_positive, "a number of seconds > 0"),
    ("http", "timeout_seconds"): (_positive, "a number of seconds > 0"),
    ("http", "retries"): (lambda v: v >= 0, "an integer >= 0"),
    ("http", "max_image_bytes"): (_positive, "a number of bytes > 0"),
    ("http", "max_response_bytes"): (_positive, "a number of bytes > 0"),
    ("digest", "daily"): (lambda v: v == "" or _is_time(v), 'a time "HH:MM", or "" for none'),
    ("digest", "weekly"): (lambda v: v == "" or _is_weekly(v), 'a day and time like "mon 09:00", or "" for none'),
    ("digest", "timezone"): (lambda v: _is_zone(v), "an IANA time zone such as Europe/Berlin"),
    ("digest", "grace_minutes"): (lambda v: v >= 0, "a number of minutes >= 0"),
    ("digest", "unclaimed_hours"): (lambda v: v >= 0, "a number of hours >= 0 (0: name no unclaimed clusters)"),
    ("retention", "days"): (_positive, "a number of days > 0"),
    ("retention", "hour"): (lambda v: 0 <= v <= 23, "an hour of the day, 0-23"),
    ("detection", "window_hours"): (_positive, "a number of hours > 0"),
    ("detection", "min_accounts"): (lambda v: v >= 2, "an integer >= 2"),
    ("detection", "min_score"): (lambda v: 0 <= v <= 1, "a number between 0 and 1"),
    ("detection", "new_account_days"): (_positive, "a number of days > 0"),
}
"""Value checks beyond the type, keyed by (section, key); the text says what is expected."""


class Secret(str):
    """A string that never shows its value in repr, logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"


@dataclass(frozen=True)
class Secrets:
    """Tokens and endpoints from the environment (docs/configuration.md names them); never from the file."""

    slack_bot_token: Secret = field(default_factory=Secret)
    slack_signing_secret: Secret = field(default_factory=Secret)
    slack_app_token: Secret = field(default_factory=Secret)
    slack_api_url: str = ""
    mastodon_base_url: str = ""
    mastodon_access_token: Secret = field(default_factory=Secret)
    mastodon_webhook_secret: Secret = field(default_factory=Secret)
    discourse_base_url: str = ""
    discourse_api_key: Secret = field(default_factory=Secret)
    discourse_api_username: str = ""
    http_json_token: Secret = field(default_factory=Secret)
    bluesky_jetstream_url: str = ""
    bluesky_appview_url: str = ""
    ozone_url: str = ""
    ozone_admin_password: Secret = field(default_factory=Secret)
    ozone_moderator_did: str = ""
    ozone_service_token: Secret = field(default_factory=Secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        """Read each secret from its upper-case environment variable."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = env.get(item.name.upper(), "").strip()
            values[item.name] = Secret(raw) if item.type in ("Secret", Secret) else raw
        return cls(**values)


SECTIONS: dict[str, type] = {
    "storage": StorageConfig,
    "source": SourceConfig,
    "slack": SlackConfig,
    "enforcement": EnforcementConfig,
    "mastodon": MastodonConfig,
    "discourse": DiscourseConfig,
    "http_json": HttpJsonConfig,
    "bluesky": BlueskyConfig,
    "http": HttpSettings,
    "detection": DetectionSettings,
    "digest": DigestConfig,
    "retention": RetentionConfig,
}
PATH_KEYS = {("storage", "path"), ("source", "path"), ("source", "outbox")}
"""Paths in the file are relative to the file's folder, so a config works from any directory."""


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    storage: StorageConfig = field(default_factory=StorageConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    slack: SlackConfig = field(default_factory=SlackConfig)
    enforcement: EnforcementConfig = field(default_factory=EnforcementConfig)
    mastodon: MastodonConfig = field(default_factory=MastodonConfig)
    discourse: DiscourseConfig = field(default_factory=DiscourseConfig)
    http_json: HttpJsonConfig = field(default_factory=HttpJsonConfig)
    bluesky: BlueskyConfig = field(default_factory=BlueskyConfig)
    http: HttpSettings = field(default_factory=HttpSettings)
    detection: DetectionSettings = field(default_factory=DetectionSettings)
    digest: DigestConfig = field(default_factory=DigestConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    secrets: Secrets = field(default_factory=Secrets)


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is dict:
        return "a table"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        kind, "a list of strings"
    )


def _coerce(where: str, kind: Any, value: Any) -> Any:
    """Check `value` against a field type, accepting an int where a float is wanted."""
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is Any:
        return value
    if typing.get_origin(kind) is dict:
        if isinstance(value, dict):
            item_kind = typing.get_args(kind)[1]
            return {key: _coerce(f"{where}.{key}", item_kind, item) for key, item in value.items()}
    elif typing.get_origin(kind) is list:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
    elif isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{where} must be {_type_name(kind)}, got {value!r}")


def _section(name: str, cls: type, raw: Any, base: Path) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {item.name: item for item in fields(cls)}
    values = {}
    for key, value in raw.items():
        where = f"{name}.{key}"
        if key not in known:
            raise ConfigError(f"{where} is not a known setting (known in [{name}]: {', '.join(known)})")
        value = _coerce(where, hints[key], value)
        check = CHECKS.get((name, key))
        if check and not check[0](value):
            raise ConfigError(f"{where} must be {check[1]}, got {value!r}")
        if (name, key) in PATH_KEYS:
            value = str((base / value).resolve()) if not Path(value).is_absolute() else value
        values[key] = value
    return cls(**values)


def parse_config(text: str, base: Path, env: Mapping[str, str]) -> Config:
    """Validate TOML text into a `Config`; relative paths are resolved against `base`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}") from None
    sections = {}
    for name, raw in document.items():
        if name not in SECTIONS:
            raise ConfigError(f"[{name}] is not a known section (known: {', '.join(SECTIONS)})")
        sections[name] = _section(name, SECTIONS[name], raw, base)
    config = Config(**sections, secrets=Secrets.from_env(env))
    if config.source.kind == "mastodon" and not (config.mastodon.base_url or config.secrets.mastodon_base_url):
        raise ConfigError("mastodon.base_url (or MASTODON_BASE_URL) is required when source.kind is mastodon")
    if config.source.kind == "discourse" and not (config.discourse.base_url or config.secrets.discourse_base_url):
        raise ConfigError("discourse.base_url (or DISCOURSE_BASE_URL) is required when source.kind is discourse")
    if config.source.kind == "http_json" and not config.http_json.base_url:
        raise ConfigError("http_json.base_url is required when source.kind is http_json")
    if config.source.kind == "bluesky":
        _check_bluesky(config)
    if config.secrets.mastodon_webhook_secret and config.source.kind != "mastodon":
        raise ConfigError("MASTODON_WEBHOOK_SECRET is set but source.kind is not mastodon: webhooks would have "
                          "nowhere to go (unset it, or set source.kind = \"mastodon\")")
    return config


def bluesky_urls(config: Config) -> tuple[str, str, str]:
    """(jetstream, AppView, Ozone) URLs: each environment variable, when set, overrides the file."""
    secrets, section = config.secrets, config.bluesky
    return (secrets.bluesky_jetstream_url or section.jetstream_url, secrets.bluesky_appview_url or section.appview_url,
            secrets.ozone_url or section.ozone_url)


def _check_bluesky(config: Config) -> None:
    """The environment's URLs are checked like the file's; acting through Ozone needs a moderator DID and a
    credential."""
    jetstream, appview, ozone = bluesky_urls(config)
    for key, value in (("jetstream_url", jetstream), ("appview_url", appview), ("ozone_url", ozone)):
        check = CHECKS[("bluesky", key)]
        if not check[0](value):
            raise ConfigError(f"bluesky.{key} (or its environment variable) must be {check[1]}, got {value!r}")
    secrets = config.secrets
    if ozone and not secrets.ozone_moderator_did.startswith("did:"):
        raise ConfigError("OZONE_MODERATOR_DID must be the DID of the moderator account Chorus acts as "
                          "(did:plc:… or did:web:…) when an Ozone URL is set")
    if ozone and not (secrets.ozone_admin_password or secrets.ozone_service_token):
        raise ConfigError("OZONE_ADMIN_PASSWORD (or OZONE_SERVICE_TOKEN) is required when an Ozone URL is set")


def load_config(path: str | Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate the config file.

    A missing default `chorus.toml` means all defaults; a missing file the user named is an error.
    """
    env = os.environ if env is None else env
    if path is None:
        default = Path("chorus.toml")
        if not default.exists():
            return parse_config("", Path.cwd(), env)
        path = default
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    try:
        return parse_config(text, path.resolve().parent, env)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None

