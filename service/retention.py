"""Retention: keep the database bounded under a steady feed without losing evidence."""

from __future__ import annotations

import logging
from datetime import timedelta

from storage import Store

log = logging.getLogger("chorus.retention")


def apply_retention(store: Store, days: float) -> int:
    """Delete unclustered posts older than `days`, then compact; returns the posts deleted.

    "Now" is the earlier of the clock and the newest post, so replaying an old feed never purges
    the posts its detection window still needs.
    """
    newest = store.newest_post_time()
    if newest is None:
        return 0
    cutoff = min(store.clock(), newest) - timedelta(days=days)
    deleted = store.purge_posts(cutoff)
    vacuumed = store.compact()
    log.info("retention: deleted %d posts older than %s%s", deleted, cutoff.isoformat(),
             "; vacuumed" if vacuumed else "")
    return deleted
