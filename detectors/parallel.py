"""Split a pure, CPU-bound map over a large batch between this process and a forked copy of it.

Python runs one thread at a time, so the second core is only reached by a second process. A
forked child inherits the input without any copying or pickling and sends back only its half
of the result; should it fail in any way, that half is computed here instead. Only a process
running a single thread forks (a scan, an eval, a benchmark), never the bot with its scheduler.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_SPLIT_ITEMS = 20_000
"""Smaller batches stay in this process: a fork and the hand-back cost 10-100 ms."""


def split_map(
    compute: Callable[[Sequence[Item]], Result], items: Sequence[Item],
    combine: Callable[[Result, Result], Result],
) -> Result:
    """`compute(items)`, with the second half of `items` computed by a forked child at the same time."""
    if len(items) < MIN_SPLIT_ITEMS or not hasattr(os, "fork") or threading.active_count() > 1:
        return compute(items)  # small, or other threads could hold locks a forked child would wait on
    half = len(items) // 2
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(reader)
            with os.fdopen(writer, "wb") as stream:
                pickle.dump(compute(items[half:]), stream, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(0)
    os.close(writer)
    first = compute(items[:half])
    with os.fdopen(reader, "rb") as stream:
        try:
            second = pickle.load(stream)  # noqa: S301 - written by our own forked child
        except (EOFError, pickle.UnpicklingError):
            second = None
    os.waitpid(child, 0)
    return combine(first, compute(items[half:]) if second is None else second)
