"""Posts as Spark rows and back: flat columns, times in epoch microseconds so nothing is rounded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.models import Author, Media, Post

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

POST_COLUMNS = (
    ("post_id", "string"), ("created_us", "long"), ("text", "string"), ("author_id", "string"), ("handle", "string"),
    ("display_name", "string"), ("author_created_us", "long"), ("posts_count", "long"), ("followers_count", "long"),
    ("following_count", "long"), ("default_avatar", "boolean"),
    ("media", "array<struct<url:string,sha256:string,phash:string>>"), ("urls", "array<string>"), ("order", "long"),
)
"""One post a row; `order` is where it was read (file number << 32 | line), which decides repeats."""
POST_SCHEMA = ", ".join(f"{name} {kind}" for name, kind in POST_COLUMNS)
POST_NAMES = [name for name, _ in POST_COLUMNS]


def micros(moment: datetime) -> int:
    """Exact epoch microseconds of an aware datetime."""
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def moment(us: int) -> datetime:
    """The aware UTC datetime of epoch microseconds."""
    return EPOCH + timedelta(microseconds=int(us))


def post_row(post: Post, order: int) -> tuple[Any, ...]:
    """A post as a row of POST_SCHEMA."""
    author = post.author
    return (post.id, micros(post.created_at), post.text, author.id, author.handle, author.display_name,
            micros(author.created_at) if author.created_at else None, author.posts_count, author.followers_count,
            author.following_count, author.default_avatar,
            [(item.url, item.sha256, item.phash) for item in post.media], list(post.urls), order)


def row_post(row: Sequence[Any] | Any) -> Post:
    """The post of a row (a Row, a tuple or a pandas row with POST_SCHEMA's names)."""
    get = row.__getitem__ if isinstance(row, dict) else (lambda name: getattr(row, name))
    created = get("author_created_us")
    return Post(
        id=get("post_id"), created_at=moment(get("created_us")), text=get("text"),
        author=Author(id=get("author_id"), handle=get("handle") or "", display_name=get("display_name") or "",
                      created_at=moment(created) if _present(created) else None,
                      posts_count=_count(get("posts_count")), followers_count=_count(get("followers_count")),
                      following_count=_count(get("following_count")), default_avatar=_flag(get("default_avatar"))),
        media=tuple(Media(url=item["url"] or "", sha256=item["sha256"], phash=item["phash"])
                    for item in _items(get("media"))),
        urls=tuple(_items(get("urls"))),
    )


def _present(value: Any) -> bool:
    return value is not None and value == value  # pandas gives NaN for a missing number


def _count(value: Any) -> int | None:
    return int(value) if _present(value) else None


def _flag(value: Any) -> bool | None:
    return bool(value) if _present(value) else None


def _items(value: Iterable[Any] | None) -> list[Any]:
    if value is None:
        return []
    return [item.asDict() if hasattr(item, "asDict") else item for item in value]
