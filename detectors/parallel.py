"""Pure, CPU-bound work done by a forked copy of this process, on the second core.

Python runs one thread at a time, so the second core is only reached by a second process. Two
shapes: `split_map` splits a large batch in half with a child forked for it, which inherits the
input without any copying and sends back only its half of the result; `Background` forks a child
up front and feeds it parts while this process goes on (a scan's texts, as the file is read).
Should a child fail in any way, its share is computed here instead, with the same result. Only a
process running a single thread forks (a scan, an eval, a benchmark), never the bot with its
scheduler.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from itertools import islice
from typing import IO, Any, Generic, TypeVar

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


PIPE_BYTES = 1 << 20
"""Pipe buffer asked for the parts sent to a background child: a few parts fit while it is busy."""
_END = object()
"""Put after a background child's last result."""


class Background(Generic[Item, Result]):
    """`work` over parts handed over one at a time, run by a forked child while this process goes on.

    The child is forked at construction, so that must come before this process starts any thread
    (a scan makes one before its read-ahead thread). Parts reach it pickled through a pipe; its
    results come back in order from a writer thread, so it never waits for them to be read. Where
    forking is unsafe, or the child fails in any way, `work` runs here on the same parts (kept as
    references) when a result is asked for, so the results are the same either way.
    """

    def __init__(self, work: Callable[[Iterable[list[Item]]], Iterator[Result]]) -> None:
        self._work = work
        self._parts: list[list[Item]] = []
        self._received = 0
        self._here: Iterator[Result] | None = None
        self._child = 0
        self._to_child: IO[bytes] | None = None
        self._from_child: IO[bytes] | None = None
        self._sigpipe: Callable[[int, Any], Any] | int | None = None
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return
        # a child gone must show as an error on write, not end this process (`bot.py` restores SIGPIPE)
        self._sigpipe = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        with suppress(OSError):
            fcntl.fcntl(parent_writes, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._child = os.fork()
        if self._child == 0:
            try:
                os.close(parent_writes)
                os.close(parent_reads)
                _serve(work, child_reads, child_writes)
            finally:
                os._exit(0)
        os.close(child_reads)
        os.close(child_writes)
        self._to_child = os.fdopen(parent_writes, "wb")
        self._from_child = os.fdopen(parent_reads, "rb")

    def send(self, part: list[Item]) -> None:
        """Hand one more part to the work."""
        self._parts.append(part)
        if self._to_child is not None:
            try:
                pickle.dump(part, self._to_child, protocol=pickle.HIGHEST_PROTOCOL)
                self._to_child.flush()
            except OSError:  # the child is gone: the work will run here
                self.close()

    def receive(self) -> Result:
        """The work's next result; the first call ends the parts."""
        if self._to_child is not None:
            with suppress(OSError):
                self._to_child.close()
            self._to_child = None
        if self._from_child is not None:
            try:
                result = pickle.load(self._from_child)  # noqa: S301 - written by our own forked child
                self._received += 1
                return result
            except (EOFError, OSError, pickle.UnpicklingError):
                self.close()
        if self._here is None:
            self._here = islice(self._work(self._parts), self._received, None)
        return next(self._here)

    def close(self) -> None:
        """End the child (it may still be working when results are no longer wanted) and reap it."""
        for stream in (self._to_child, self._from_child):
            if stream is not None:
                with suppress(OSError):  # a part half written to a child that is gone
                    stream.close()
        self._to_child = self._from_child = None
        if self._child:
            with suppress(ProcessLookupError):
                os.kill(self._child, signal.SIGKILL)
            os.waitpid(self._child, 0)
            self._child = 0
        if self._sigpipe is not None:
            with suppress(ValueError):  # only the main thread may set it back
                signal.signal(signal.SIGPIPE, self._sigpipe)
            self._sigpipe = None


def _serve(work: Callable[[Iterable[list[Item]]], Iterator[Result]], reads: int, writes: int) -> None:
    """The child's side: parts are unpickled until the parent closes its end; each result is pickled back."""
    results: queue.SimpleQueue[object] = queue.SimpleQueue()
    with os.fdopen(reads, "rb") as source, os.fdopen(writes, "wb") as sink:
        writer = threading.Thread(target=_write_results, args=(results, sink))
        writer.start()
        try:
            for result in work(_unpickled(source)):
                results.put(result)
        finally:
            results.put(_END)
            writer.join()


def _unpickled(source: IO[bytes]) -> Iterator[Any]:
    """Objects pickled one after another into `source`, until it ends."""
    while True:
        try:
            yield pickle.load(source)  # noqa: S301 - written by our own parent
        except EOFError:
            return


def _write_results(results: queue.SimpleQueue[object], sink: IO[bytes]) -> None:
    """Pickle results into `sink` as they come, until the end marker (or the parent stops reading)."""
    with suppress(OSError):
        while (result := results.get()) is not _END:
            pickle.dump(result, sink, protocol=pickle.HIGHEST_PROTOCOL)
            sink.flush()
