"""Bulk work on a million objects: keep the cyclic garbage collector off them.

Posts, authors and index entries hold no reference cycles, yet each collection of the oldest
generation walks every one of them: pausing collection while they are built more than halves the
time to read a large file. After a pause that built a great many objects they are frozen
(`gc.freeze`), so the first collection after it does not walk them all at once (a 1.5 s stall in
the middle of a poll). Frozen objects are still freed by reference counting when dropped; only
cyclic garbage frozen with them would stay, which is why small pauses (a poll's worth) do not
freeze and the bot's scheduler threads keep collecting normally.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager

MMAP_THRESHOLD_BYTES = 256 * 1024
"""Blocks this large or larger get pages of their own from the C allocator, handed back when freed."""
_M_MMAP_THRESHOLD = -3
"""glibc's `mallopt` parameter number for the mmap threshold."""
FREEZE_MIN_OBJECTS = 250_000
"""Objects a pause must have added before they are frozen rather than left to the collector."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable automatic collection inside the block; afterwards freeze what a large build made."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] >= FREEZE_MIN_OBJECTS:
            gc.freeze()
        if was_enabled:
            gc.enable()


def return_freed_blocks() -> None:
    """Have the C allocator map every large block on its own, so a freed array or table goes back at once.

    glibc raises its mmap threshold each time a mapped block is freed (up to 32 MB); from then on the
    million-entry arrays and dict tables that indexing builds and drops come from the heap, and the
    holes they leave stay in the process: ~130 MB of a 1M-post scan's peak RSS. Fixing the threshold
    keeps it low. A no-op where the C library has no `mallopt` (not glibc).
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
