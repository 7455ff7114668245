"""The registry builds each configured adapter, and the config names what is missing or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from platforms.discourse import DiscourseSource
from platforms.enforcing import OnceOnly
from platforms.http_json import HttpJsonEnforcer, HttpJsonSource
from platforms.mastodon import MastodonEnforcer, MastodonSource
from service.config import ConfigError, parse_config
from service.registry import build_enforcer, build_source

ENV = {"MASTODON_BASE_URL": "https://m.example", "MASTODON_ACCESS_TOKEN": "t", "DISCOURSE_API_KEY": "k"}


def config(text: str, env: dict[str, str] | None = None):
    return parse_config(text, Path.cwd(), ENV if env is None else env)


def test_each_kind_builds_its_source_and_a_once_only_enforcer():
    mastodon = config('[source]\nkind = "mastodon"\n')
    assert isinstance(build_source(mastodon), MastodonSource)
    enforcer = build_enforcer(mastodon)
    assert isinstance(enforcer, OnceOnly) and isinstance(enforcer.enforcer, MastodonEnforcer)
    discourse = config('[source]\nkind = "discourse"\n[discourse]\nbase_url = "https://f.example"\n')
    assert isinstance(build_source(discourse), DiscourseSource)
    generic = config(
        '[source]\nkind = "http_json"\n[http_json]\nbase_url = "https://a.example"\n'
        'fields = { id = "uid" }\n[http_json.actions.suspend]\nurl = "/u/{account_id}"\nbody = { why = "{reason}" }\n'
    )
    assert isinstance(build_source(generic), HttpJsonSource)
    assert isinstance(build_enforcer(generic).enforcer, HttpJsonEnforcer)


def test_configuration_mistakes_name_the_key():
    with pytest.raises(ConfigError, match="DISCOURSE_API_KEY"):
        build_source(config('[source]\nkind = "discourse"\n[discourse]\nbase_url = "https://f"\n', {}))
    with pytest.raises(ConfigError, match=r"http_json\.cursor"):
        config('[http_json]\ncursor = "page"\n')
    with pytest.raises(ConfigError, match=r"http_json\.fields\.id"):
        config("[http_json]\nfields = { id = 3 }\n")
    with pytest.raises(ConfigError, match=r"http_json\.actions"):
        config('[http_json.actions.ban]\nurl = "/x"\n')
