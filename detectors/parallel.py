"""Pure, CPU-bound work done by forked copies of this process, on the other cores.

Python runs one thread at a time, so another core is only reached by another process. Two shapes:
`split_map` splits a large batch in half with a child forked for it, which inherits the input
without any copying and sends back only its half of the result; `worker_pool` is a standard
`ProcessPoolExecutor` of forked workers that a scan feeds parts while it goes on reading. Should a
child fail in any way, its share is computed here instead, with the same result. Only a process
running a single thread forks (a scan, an eval, a benchmark), never the bot with its scheduler.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_SPLIT_ITEMS = 20_000
"""Smaller batches stay in this process: a fork and the hand-back cost 10-100 ms."""


def split_map(
    compute: Callable[[Sequence[Item]], Result], items: Sequence[Item],
    combine: Callable[[Result, Result], Result], min_items: int | None = None,
) -> Result:
    """`compute(items)`, with the second half of `items` computed by a forked child at the same time
    (from `min_items` items, default MIN_SPLIT_ITEMS: fewer, heavier ones may be worth a fork too)."""
    small = len(items) < (MIN_SPLIT_ITEMS if min_items is None else min_items)
    if small or not hasattr(os, "fork") or threading.active_count() > 1:
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


def worker_pool() -> ProcessPoolExecutor | None:
    """A pool of forked worker processes, one per core, started now; None where forking is unsafe.

    The workers are forked before this returns, so a caller makes the pool before it starts any
    thread of its own (a scan makes it before its read-ahead thread); the pool's own threads
    start after the forks. Work handed to it must be module-level functions of picklable data.
    """
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    pool = ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork"))
    pool.submit(int).result()  # forks every worker, then starts the pool's manager thread
    return pool
