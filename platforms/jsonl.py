"""The `jsonl` platform: posts read from a file or a folder of files, actions appended to an outbox.

The cursor records the file and the byte offset after the last complete line read, so a file
that is still being appended to is followed safely: a half-written last line waits.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson

from chorus.records import RecordError, parse_post
from platforms.base import Action, ActionResult, FetchResult, Skipped

SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json.gz")
MAX_LINE_BYTES = 1_000_000
"""A longer line is skipped without being held in memory whole: no real post needs a megabyte."""


class SourceError(RuntimeError):
    """The source cannot be read at all (missing file, unreadable folder); the message says which."""


def _is_post_file(path: Path) -> bool:
    return path.is_file() and path.name.endswith(SUFFIXES)


def post_files(path: Path) -> list[Path]:
    """The files a jsonl source reads, in name order: `path` itself or the post files in it."""
    if path.is_dir():
        return sorted(child for child in path.iterdir() if _is_post_file(child))
    if path.is_file():
        return [path]
    raise SourceError(f"{path} does not exist (source.path must name a .jsonl file, a .jsonl.gz file or a folder)")


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


class JsonlSource:
    """Reads post records from JSONL files past a cursor `{"file": name, "offset": n, "line": k}`."""

    name = "jsonl"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        post_files(self.path)  # fail at start, not at the first poll
        self._reader: tuple[str, int, Iterator[tuple[int, int, object]]] | None = None

    def _records(self, path: Path, offset: int, line_no: int) -> Iterator[tuple[int, int, object]]:
        """Records from `offset` on, continuing the last fetch's open reader when it stopped there."""
        if self._reader and self._reader[:2] == (path.name, offset):
            return self._reader[2]
        return read_records(path, offset, line_no)

    def fetch(self, cursor: str | None, limit: int) -> FetchResult:
        """Read up to `limit` records after `cursor`, skipping (and naming) the malformed ones."""
        position = orjson.loads(cursor) if cursor else {"file": "", "offset": 0, "line": 0}
        posts, skipped = [], []
        files = post_files(self.path)
        for path in files:
            if path.name < position["file"]:
                continue
            if path.name > position["file"]:
                position = {"file": path.name, "offset": 0, "line": 0}
            records = self._records(path, position["offset"], position["line"])
            for line_no, offset, record in records:
                position = {"file": path.name, "offset": offset, "line": line_no}
                if isinstance(record, Skipped):
                    skipped.append(record)
                else:
                    posts.append(record)
                if len(posts) + len(skipped) >= limit:
                    self._reader = (path.name, offset, records)
                    return FetchResult(posts, orjson.dumps(position).decode(), skipped, exhausted=False)
            self._reader = None
        next_cursor = orjson.dumps(position).decode() if position["file"] else cursor
        return FetchResult(posts, next_cursor, skipped, exhausted=True)


def read_records(path: Path, offset: int = 0, line_no: int = 0) -> Iterator[tuple[int, int, object]]:
    """Yield `(line number, offset after the line, Post or Skipped)` for each complete line past `offset`.

    A truncated or corrupt .gz ends the file with one `Skipped` naming the last good line.
    """
    try:
        handle = _open(path)
    except OSError as error:
        raise SourceError(f"cannot read {path}: {error.strerror or error}") from None
    with handle:
        try:
            handle.seek(offset)  # gzip seeks by decompressing forward; the source keeps readers open
            while raw := handle.readline(MAX_LINE_BYTES + 1):
                if len(raw) > MAX_LINE_BYTES:
                    rest = _skip_rest_of_line(handle)
                    if rest is None:
                        return  # an oversized line still being written: judge it when it is whole
                    length = len(raw) + rest
                    line_no += 1
                    offset += length
                    problem = f"line of {length:,} bytes is over the {MAX_LINE_BYTES:,} byte limit"
                    yield line_no, offset, Skipped(f"{path.name}:{line_no}", problem)
                    continue
                if not raw.endswith(b"\n"):
                    return  # a line still being written: read it next time, whole
                line_no += 1
                offset += len(raw)
                if raw.strip():
                    yield line_no, offset, _parse_line(raw, path, line_no)
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            problem = f"file is truncated or corrupt after line {line_no} ({error or 'unexpected end of data'})"
            yield line_no, offset, Skipped(f"{path.name}", problem)


def _skip_rest_of_line(handle: IO[bytes]) -> int | None:
    """Read past the end of an oversized line in bounded chunks; its remaining length, or None if it has no end yet."""
    skipped = 0
    while chunk := handle.readline(MAX_LINE_BYTES):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            return skipped
    return None


def _parse_line(raw: bytes, path: Path, line_no: int) -> object:
    where = f"{path.name}:{line_no}"
    try:
        return parse_post(orjson.loads(raw))
    except orjson.JSONDecodeError as error:
        return Skipped(where, f"not valid JSON ({error.args[0] if error.args else error})")
    except RecordError as error:
        return Skipped(where, str(error))


class JsonlOutbox:
    """An `Enforcer` that appends each action to a JSONL file, for dry runs and platforms without an API.

    Keys already in the file are not written again, so a retried decision never acts twice.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._done: set[str] = set()
        if self.path.exists():
            with self.path.open("rb") as handle:
                self._done = {orjson.loads(line)["idempotency_key"] for line in handle if line.strip()}

    def act(self, action: Action, account_id: str, reason: str, idempotency_key: str) -> ActionResult:
        """Append the action (once per key) and report success."""
        if idempotency_key not in self._done:
            entry = {"at": datetime.now(UTC).isoformat(), "action": str(action), "account_id": account_id,
                     "reason": reason, "idempotency_key": idempotency_key}
            with self.path.open("ab") as handle:
                handle.write(orjson.dumps(entry) + b"\n")
            self._done.add(idempotency_key)
        return ActionResult(account_id, action, ok=True, detail=f"written to {self.path.name}")
