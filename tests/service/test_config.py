"""Configuration: defaults, every kind of mistake stops with the key named, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from platforms.enforcing import OnceOnly
from platforms.jsonl import JsonlOutbox
from platforms.ozone import NoOzone
from service.config import ConfigError, load_config, parse_config
from service.wiring import card_options


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={})
    assert config.source.kind == "jsonl" and config.source.poll_seconds == 60
    assert config.storage.path == "chorus.db" and config.detection.window_hours == 24


def test_values_and_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "chorus.toml"
    path.parent.mkdir()
    path.write_text('[storage]\npath = "data/chorus.db"\n[source]\npoll_seconds = 5\npath = "/feeds"\n'
                    '[slack]\nchannel = "C1"\nmoderators = ["U1", "U2"]\n[detection]\nmin_accounts = 4\n')
    config = load_config(path, env={})
    assert config.storage.path == str(tmp_path / "conf" / "data" / "chorus.db")
    assert config.source.path == "/feeds" and config.source.poll_seconds == 5.0
    assert config.slack.moderators == ["U1", "U2"] and config.detection.min_accounts == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[source]\npoll_secs = 5", r"source\.poll_secs is not a known setting \(known in \[source\]: kind"),
        ("[sauce]\nkind = 'jsonl'", r"\[sauce\] is not a known section"),
        ("[source]\npoll_seconds = 'often'", r"source\.poll_seconds must be a number, got 'often'"),
        ("[source]\npoll_seconds = 0", r"source\.poll_seconds must be a number of seconds > 0"),
        ("[source]\nkind = 'ftp'", r"source\.kind must be one of jsonl, mastodon"),
        ("[slack]\nport = 70000", r"slack\.port must be a TCP port"),
        ("[slack]\nmoderators = 'U1'", r"slack\.moderators must be a list of strings"),
        ("[detection]\nmin_score = 1.5", r"detection\.min_score must be a number between 0 and 1"),
        ("[source]\nbatch_size = true", r"source\.batch_size must be an integer, got True"),
        ("[source\nkind = 1", r"not valid TOML"),
        ("source = 3", r"\[source\] must be a table"),
        ("[source]\nkind = 'mastodon'", r"mastodon\.base_url \(or MASTODON_BASE_URL\) is required"),
        ("[digest]\ndaily = '9am'", r"digest\.daily must be a time \"HH:MM\""),
        ("[digest]\nweekly = 'someday 09:00'", r"digest\.weekly must be a day and time like \"mon 09:00\""),
        ("[digest]\ntimezone = 'Mars/Olympus_Mons'", r"digest\.timezone must be an IANA time zone"),
        ("[retention]\ndays = 0", r"retention\.days must be a number of days > 0"),
        ("[enforcement]\nactions = ['ban']", r"enforcement\.actions must be a non-empty list of distinct actions among "
                                             r"suspend, limit, require_verification, got \['ban'\]"),
        ("[enforcement]\nactions = []", r"enforcement\.actions must be a non-empty list"),
        ("[enforcement]\ndry_run = 'yes'", r"enforcement\.dry_run must be true or false"),
        ("[enforcement]\nfingerprint_days = -1", r"enforcement\.fingerprint_days must be a number of days >= 0"),
        ("[mastodon]\nwebhook_max_age_seconds = 0", r"mastodon\.webhook_max_age_seconds must be a number of seconds"),
    ],
)
def test_mistakes_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, Path("/tmp"), {})


def test_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[source]\nkind = 'ftp'\n")
    with pytest.raises(ConfigError, match=f"^{path}: source.kind"):
        load_config(path, env={})


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", env={})


def test_secrets_come_from_the_environment_and_never_show() -> None:
    config = parse_config("", Path("/tmp"), {"SLACK_BOT_TOKEN": "xoxb-secret-value", "SLACK_API_URL": "http://x"})
    assert config.secrets.slack_bot_token == "xoxb-secret-value"
    assert config.secrets.slack_api_url == "http://x"
    shown = repr(config) + str(config.secrets) + f"{config.secrets!r}"
    assert "xoxb-secret-value" not in shown


def test_a_webhook_secret_without_mastodon_is_refused_and_actions_the_platform_lacks_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"MASTODON_WEBHOOK_SECRET is set but source\.kind is not mastodon"):
        parse_config("", tmp_path, {"MASTODON_WEBHOOK_SECRET": "s"})
    config = parse_config("[enforcement]\nactions = ['limit']", tmp_path, {})
    with pytest.raises(ConfigError, match=r"enforcement\.actions: jsonl can carry out none of limit"):
        card_options(config, OnceOnly(NoOzone()))  # an enforcer that offers only suspend and verification
    limited = card_options(config, OnceOnly(JsonlOutbox(tmp_path / "outbox.jsonl")))
    assert limited.actions == ("limit",) and not limited.domain_actions
