"""Open reports on cards: while clusters wait for moderators, the platform's unresolved reports are read at each
poll before cards are posted, so a card counts the reports about its accounts (and links them), and an action
files under them."""

from __future__ import annotations

from platforms.base import ReportReading, Source
from storage import Store


def refresh_open_reports(store: Store, source: Source) -> int:
    """Read the open reports again when any cluster waits for moderators; returns how many cards now count
    differently (they are marked stale and updated). Nothing is read while no cluster waits."""
    if not isinstance(source, ReportReading) or not store.clusters_waiting():
        return 0
    reports = source.open_reports()
    return 0 if reports is None else store.replace_open_reports(reports)
