"""Siblings of flagged clusters: for each cluster still waiting for moderators, ask the admin API for the local
accounts created in its creation window that share sign-up details with its accounts, and list them in its
card's thread (once the card is posted) with buttons of their own. Once per cluster; a search the budget or the
platform did not allow now is tried at a later poll."""

from __future__ import annotations

import logging
from datetime import timedelta

from detectors.siblings import find_siblings
from domain.views import BatchKind, BatchMember
from platforms.base import SiblingFinding, Source
from storage import Store

log = logging.getLogger("chorus.siblings")


def look_for_siblings(store: Store, source: Source, margin_hours: float) -> int:
    """Search the siblings of every cluster not searched yet; returns how many siblings were found."""
    if not isinstance(source, SiblingFinding):
        return 0
    found = 0
    for cluster_id in store.clusters_without_sibling_search():
        view = store.cluster_view(cluster_id)
        if view is None:
            continue
        flagged = source.sign_ups([a.id for a in view.accounts])
        if flagged is None:
            return found  # not now: a later poll asks again
        margin = timedelta(hours=margin_hours)
        since = min((s.created_at for s in flagged), default=None)
        until = max((s.created_at for s in flagged), default=None)
        candidates = source.local_sign_ups(since - margin, until + margin) if since and until else []
        if candidates is None:
            return found
        known = store.cluster_accounts(cluster_id) | store.batched_accounts(cluster_id)
        siblings = find_siblings(flagged, candidates, since - margin, until + margin, known) if since and until else []
        with store.atomic():
            if siblings:
                members = {s.sign_up.account_id: BatchMember(s.sign_up.handle, s.sign_up.url, s.note)
                           for s in siblings}
                batch = store.record_late_batch(cluster_id, list(members), BatchKind.SIBLINGS, members)
                store.audit("siblings_found", "chorus", cluster_id=cluster_id, batch=batch, accounts=len(siblings),
                            flagged_local=len(flagged))
            store.record_sibling_search(cluster_id, len(siblings))
        log.info("cluster %s: %d siblings among %d local accounts created in its window", cluster_id, len(siblings),
                 len(candidates))
        found += len(siblings)
    return found
