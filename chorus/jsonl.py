"""Read post files (`.jsonl` or `.jsonl.gz`) into `Post`s, reporting bad lines without stopping."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from chorus.models import Post
from chorus.records import RecordError, parse_post


def read_posts(path: Path, on_error: Callable[[int, str], None] | None = None) -> Iterator[Post]:
    """Yield the posts of a JSONL file; a malformed line goes to `on_error(line_number, message)`."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield parse_post(orjson.loads(line))
            except (orjson.JSONDecodeError, RecordError) as error:
                if on_error is not None:
                    on_error(number, str(error))
