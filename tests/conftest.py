"""Shared fixtures: post records, feeds written to disk, and a way to run the CLI as a user would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent


def record(post_id: str, text: str, author: str, at: str = "2026-02-20T06:00:00Z", **extra: Any) -> dict[str, Any]:
    """A valid post record in DESIGN.md's format."""
    return {"id": post_id, "created_at": at, "text": text,
            "author": {"id": author, "handle": author, "created_at": "2026-02-10T00:00:00Z"}, **extra}


def write_jsonl(path: Path, records: list[Any]) -> Path:
    """Write records (dicts, or raw strings for malformed lines) one per line."""
    lines = [item.encode() if isinstance(item, str) else orjson.dumps(item) for item in records]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python bot.py ...` in a subprocess from a scratch folder, as a user would."""

    def run(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), *args], cwd=tmp_path, capture_output=True, text=True,
            timeout=timeout, env=env,
        )

    return run
