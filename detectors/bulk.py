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

import gc
from collections.abc import Iterator
from contextlib import contextmanager

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
