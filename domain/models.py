"""The records every part of Chorus passes around: posts, their authors and media, clusters.

Plain frozen records so `detectors/` can stay free of I/O and every layer agrees on one shape. Posts,
authors and media are frozen msgspec Structs: a scan decodes a million of them straight from JSON,
nearly three times faster than into dataclasses, and they hold no cycles, so the collector skips them.
The length bounds on their fields are checked by msgspec as it decodes a record, not on construction:
a record outside them takes `domain.records.parse_post`, which cuts, refuses and names the problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import msgspec

MAX_TEXT_CHARS = 20_000
"""Longer post text is cut here: detection, storage and cards need no more, and a hostile post gets no more."""
MAX_ITEMS = 100
"""Media and links kept per post."""
MAX_FIELD_CHARS = 2_000
"""Ids, handles, names and URLs longer than this are refused: no platform issues them."""

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_FIELD_CHARS)]
_Field = Annotated[str, msgspec.Meta(max_length=MAX_FIELD_CHARS)]


class Author(msgspec.Struct, frozen=True, gc=False):
    """An account as the platform describes it at the time a post was read."""

    id: _Id
    handle: _Field = ""
    display_name: str = ""
    created_at: datetime | None = None
    posts_count: int | None = None
    followers_count: int | None = None
    following_count: int | None = None
    default_avatar: bool | None = None
    url: str | None = None


class Media(msgspec.Struct, frozen=True, gc=False):
    """An attached image; `sha256` and `phash` (hex) are what detection compares."""

    url: str = ""
    sha256: str | None = None
    phash: str | None = None
    blurhash: str | None = None


class Post(msgspec.Struct, frozen=True, gc=False):
    """One post in the record format of docs/formats.md; timestamps are timezone-aware UTC."""

    id: _Id
    created_at: datetime
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]
    author: Author
    media: Annotated[tuple[Media, ...], msgspec.Meta(max_length=MAX_ITEMS)] = ()
    urls: Annotated[tuple[_Field, ...], msgspec.Meta(max_length=MAX_ITEMS)] = ()
    repost_of: str | None = None
    reply_to: str | None = None
    url: str | None = None
    lang: str | None = None


@dataclass(slots=True)
class Cluster:
    """A group of accounts that posted the same or nearly the same content.

    `key` is a stable fingerprint of the shared content so a cluster can be recognised when it
    grows; `reasons` are the plain-language evidence shown to moderators.
    """

    key: str
    score: float
    accounts: list[str]
    posts: list[str]
    reasons: list[str]
    sample_text: str
    first_seen: datetime
    last_seen: datetime
    distinct_texts: int = 1
    media: list[str] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """A short, typeable id derived from `key`: the same in `scan` reports and in the bot."""
        return "c-" + hashlib.blake2b(self.key.encode(), digest_size=5).hexdigest()

    @property
    def span_seconds(self) -> float:
        """Seconds between the first and the last post of the cluster."""
        return (self.last_seen - self.first_seen).total_seconds()
