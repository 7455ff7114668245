"""Turn post records (docs/formats.md) into `Post`s, naming the problem when one is bad.

Most records are plain (string ids, UTC times, lists where lists belong): msgspec decodes those
straight into `Post`s in C, several times faster than building dicts and checking them in Python.
Anything it refuses or that needs a conversion goes through `parse_post`, which has the last word
and names the problem, so both paths give the same posts and the same errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import msgspec
import orjson

from domain.models import MAX_FIELD_CHARS, MAX_ITEMS, MAX_TEXT_CHARS, Author, Media, Post

_TYPED = msgspec.json.Decoder(Post)
_TZ, _AUTHOR_CREATED = attrgetter("created_at.tzinfo"), attrgetter("author.created_at")
_TIME_ZONE = attrgetter("tzinfo")
_UTC_ONLY = frozenset({UTC})


class RecordError(ValueError):
    """A post record that cannot be used; the message names the field and the problem."""


def parse_time(value: Any, field_name: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise RecordError(f"{field_name} must be an RFC 3339 timestamp string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{field_name} is not an RFC 3339 timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise RecordError(f"{field_name} has no time zone (add 'Z' or an offset): {value[:40]!r}")
    return parsed.astimezone(UTC)


def _optional_time(value: Any, field_name: str) -> datetime | None:
    return None if value in (None, "") else parse_time(value, field_name)


def _optional_int(value: Any, field_name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{field_name} must be an integer, got {value!r}")
    return value


def _optional_str(value: Any, field_name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RecordError(f"{field_name} must be a string, got {type(value).__name__}")
    return _bounded(str(value), field_name)


def _required_id(value: Any, field_name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise RecordError(f"{field_name} is missing or not a string")
    return _bounded(str(value), field_name)


def _bounded(value: str, field_name: str) -> str:
    if len(value) > MAX_FIELD_CHARS:
        raise RecordError(f"{field_name} is {len(value):,} characters long, over the {MAX_FIELD_CHARS:,} allowed")
    return value


def parse_author(raw: Any) -> Author:
    """Build an `Author` from the record's `author` object."""
    if not isinstance(raw, dict):
        raise RecordError("author is missing or not an object")
    default_avatar = raw.get("default_avatar")
    if default_avatar is not None and not isinstance(default_avatar, bool):
        raise RecordError(f"author.default_avatar must be true or false, got {default_avatar!r}")
    return Author(
        id=_required_id(raw.get("id"), "author.id"),
        handle=_optional_str(raw.get("handle"), "author.handle") or "",
        display_name=_optional_str(raw.get("display_name"), "author.display_name") or "",
        created_at=_optional_time(raw.get("created_at"), "author.created_at"),
        posts_count=_optional_int(raw.get("posts_count"), "author.posts_count"),
        followers_count=_optional_int(raw.get("followers_count"), "author.followers_count"),
        following_count=_optional_int(raw.get("following_count"), "author.following_count"),
        default_avatar=default_avatar,
        url=_optional_str(raw.get("url"), "author.url"),
    )


def _parse_media(raw: Any) -> tuple[Media, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RecordError("media must be a list of objects")
    items = []
    for index, item in enumerate(raw[:MAX_ITEMS]):
        if not isinstance(item, dict):
            raise RecordError(f"media[{index}] must be an object")
        items.append(
            Media(
                url=_optional_str(item.get("url"), f"media[{index}].url") or "",
                sha256=_optional_str(item.get("sha256"), f"media[{index}].sha256"),
                phash=_optional_str(item.get("phash"), f"media[{index}].phash"),
                blurhash=_optional_str(item.get("blurhash"), f"media[{index}].blurhash"),
            )
        )
    return tuple(items)


def _parse_urls(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(url, str) for url in raw):
        raise RecordError("urls must be a list of strings")
    return tuple(url[:MAX_FIELD_CHARS] for url in raw[:MAX_ITEMS])


def parse_post(raw: Any) -> Post:
    """Build a `Post` from one decoded record; unknown fields are ignored."""
    if not isinstance(raw, dict):
        raise RecordError(f"a post must be a JSON object, got {type(raw).__name__}")
    text = raw.get("text")
    if not isinstance(text, str):
        raise RecordError("text is missing or not a string")
    return Post(
        id=_required_id(raw.get("id"), "id"),
        created_at=parse_time(raw.get("created_at"), "created_at"),
        text=text[:MAX_TEXT_CHARS],
        author=parse_author(raw.get("author")),
        media=_parse_media(raw.get("media")),
        urls=_parse_urls(raw.get("urls")),
        repost_of=_optional_str(raw.get("repost_of"), "repost_of"),
        reply_to=_optional_str(raw.get("reply_to"), "reply_to"),
        url=_optional_str(raw.get("url"), "url"),
        lang=_optional_str(raw.get("lang"), "lang"),
    )


def _plain(post: Post) -> bool:
    """Whether a typed decode needs none of `parse_post`'s refusals, bounds or conversions."""
    return _all_plain([post])


def decode_post(line: bytes) -> Post:
    """One JSON line as a `Post`; raises `orjson.JSONDecodeError` or `RecordError` naming the problem."""
    try:
        post = _TYPED.decode(line)
    except (msgspec.MsgspecError, RecursionError):  # orjson names the problem (and bounds the depth)
        return parse_post(orjson.loads(line))
    return post if _plain(post) else parse_post(orjson.loads(line))


def decode_plain_lines(block: bytes) -> list[Post] | None:
    """Every line of `block` as a `Post` in one typed pass, or None when any line needs `decode_post`."""
    try:
        posts = _TYPED.decode_lines(block)
    except (msgspec.MsgspecError, RecursionError):
        return None
    return posts if len(posts) == block.count(b"\n") and _all_plain(posts) else None


def _all_plain(posts: list[Post]) -> bool:
    """`_plain` for a whole block: both times UTC, each test a C-level pass rather than a call a post.

    Empty ids and lengths past the bounds were already refused by the typed decode (see `Post`).
    """
    created = filter(None, map(_AUTHOR_CREATED, posts))
    return set(map(_TZ, posts)) <= _UTC_ONLY and set(map(_TIME_ZONE, created)) <= _UTC_ONLY


def format_time(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a 'Z', as the post record writes timestamps."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def post_to_record(post: Post) -> dict[str, Any]:
    """The inverse of `parse_post`: a JSON-ready record in the shape of docs/formats.md."""
    author = post.author
    return {
        "id": post.id,
        "created_at": format_time(post.created_at),
        "text": post.text,
        "author": {
            "id": author.id,
            "handle": author.handle,
            "display_name": author.display_name,
            "created_at": format_time(author.created_at),
            "posts_count": author.posts_count,
            "followers_count": author.followers_count,
            "following_count": author.following_count,
            "default_avatar": author.default_avatar,
            "url": author.url,
        },
        "media": [
            {"url": m.url, "sha256": m.sha256, "phash": m.phash, "blurhash": m.blurhash} for m in post.media
        ],
        "urls": list(post.urls),
        "repost_of": post.repost_of,
        "reply_to": post.reply_to,
        "url": post.url,
        "lang": post.lang,
    }
