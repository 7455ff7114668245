"""Remote domains on cards: when most of a waiting cluster's accounts come from one remote domain, how many follows
local accounts have there is looked up once, so moderators see what a domain block would cut."""

from __future__ import annotations

from domain.views import majority_domain
from platforms.base import DomainFollowing, Source
from storage import Store


def count_domain_follows(store: Store, source: Source) -> int:
    """Look up the local follows of each waiting cluster's majority domain not looked up yet; returns how many were."""
    if not isinstance(source, DomainFollowing):
        return 0
    counted = 0
    for cluster_id in store.clusters_waiting():
        majority = majority_domain(store.cluster_handles(cluster_id))
        looked_up = store.domain_follows(cluster_id)
        if majority is None or (looked_up is not None and looked_up[0] == majority[0]):
            continue
        follows = source.local_follows(majority[0])
        if follows is None:
            return counted  # not now (or never: the refusal was reported); a later poll asks again
        store.record_domain_follows(cluster_id, majority[0], follows)
        counted += 1
    return counted
