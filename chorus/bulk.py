"""Bulk work on a million objects: pause the cyclic garbage collector while they are built.

Posts, authors and index entries hold no reference cycles, yet each collection of the oldest
generation walks every one of them; pausing it more than halves the time to read a large file.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable automatic collection inside the block, restoring the previous state after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
