"""The queue a moderator's App Home shows: the waiting clusters through their filters, one page at a time,
with what they decided in the last week and the week's figures. A read, so no transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.queue import ModeratorHome, QueueFilter
from storage import Store

RECENT = timedelta(days=7)
"""How far back "what I decided" and the figures look."""


def moderator_home(store: Store, viewer: str, filters: QueueFilter, page: int, page_size: int,
                   now: datetime, unclaimed_after: timedelta | None = None) -> ModeratorHome:
    """The Home of `viewer`: page `page` (from 0; past the end shows the last) of the filtered queue, oldest first."""
    queue = store.queue()
    matching = [item for item in queue if filters.admits(item, viewer)]
    pages = max(1, -(-len(matching) // page_size))
    page = min(max(page, 0), pages - 1)
    return ModeratorHome(
        viewer=viewer, now=now, filters=filters, page=page, pages=pages,
        items=matching[page * page_size:(page + 1) * page_size], matching=len(matching), waiting=len(queue),
        platforms=sorted({item.platform for item in queue}), decided=store.decided_by(viewer, now - RECENT),
        week=store.digest(now - RECENT, now, unclaimed_after),
    )
