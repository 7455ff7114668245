"""Build the configured source and enforcer from `source.kind`."""

from __future__ import annotations

from chorus.config import Config, ConfigError
from platforms.base import Enforcer, Source
from platforms.jsonl import JsonlOutbox, JsonlSource


def build_source(config: Config) -> Source:
    """The post source named by `source.kind`."""
    if config.source.kind == "jsonl":
        return JsonlSource(config.source.path)
    raise ConfigError(f"source.kind = {config.source.kind!r} has no adapter in this version of Chorus")


def build_enforcer(config: Config) -> Enforcer:
    """The enforcer that carries out decisions on the configured platform."""
    if config.source.kind == "jsonl":
        return JsonlOutbox(config.source.outbox)
    raise ConfigError(f"source.kind = {config.source.kind!r} has no adapter in this version of Chorus")
