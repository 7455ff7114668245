"""Remote domains on cards: when most of a waiting cluster's accounts come from one remote domain, how many follows
local accounts have there is looked up once, so moderators see what a domain block would cut."""

from __future__ import annotations

from platforms.base import DomainFollowing, Source
from storage import Store


def count_domain_follows(store: Store, source: Source) -> int:
    """Look up the local follows of each waiting cluster's majority domain not looked up yet; returns how many were."""
    if not isinstance(source, DomainFollowing):
        return 0
    counted = 0
    for cluster_id in store.clusters_waiting():
        view = store.cluster_view(cluster_id)
        domain = view.remote_domain if view else None
        if domain is None or store.domain_follows(cluster_id) is not None:
            continue
        follows = source.local_follows(domain.domain)
        if follows is None:
            return counted  # not now (or never: the refusal was reported); a later poll asks again
        store.record_domain_follows(cluster_id, domain.domain, follows)
        counted += 1
    return counted
