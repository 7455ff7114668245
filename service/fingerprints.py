"""Known campaigns: a suspended cluster's fingerprints remembered (with an expiry), and new posts that carry
one flagged at once, even from a single new account, in the campaign's card thread with buttons of their own."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from detectors.fingerprints import campaign_fingerprints, match_fingerprints
from domain.fingerprints import Fingerprint
from domain.models import Post
from domain.views import BatchKind, BatchMember
from storage import Store

log = logging.getLogger("chorus.fingerprints")

MATCH_NOTE = {True: "posted a known campaign image", False: "posted a known campaign text"}
"""What the thread reply says of each account, by whether its post matched an image."""


def remember_campaign(store: Store, cluster_id: str, days: float) -> int:
    """Remember the image hashes and text signatures of a cluster just suspended, for `days` (0: not at all);
    returns how many were new. Call it inside the transaction that records the suspension as done."""
    if days <= 0:
        return 0
    return store.remember_fingerprints(cluster_id, campaign_fingerprints(store.cluster_posts(cluster_id)),
                                       store.clock() + timedelta(days=days))


def remove_fingerprint(store: Store, fingerprint_id: int, moderator: str) -> Fingerprint | None:
    """A moderator removes a fingerprint that flags the wrong posts (audited); None when there is no such one."""
    return store.remove_fingerprint(fingerprint_id, moderator)


def flag_known_campaigns(store: Store, posts: Sequence[Post]) -> int:
    """Flag the authors of new posts that carry a known campaign's image or text: one batch per campaign, of the
    accounts neither in its cluster nor flagged in its thread before; returns how many accounts were flagged."""
    fingerprints = store.active_fingerprints()
    if not fingerprints or not posts:
        return 0
    matches = match_fingerprints(posts, fingerprints)
    by_cluster: dict[str, dict[str, BatchMember]] = {}
    for match in matches:
        author = match.post.author
        members = by_cluster.setdefault(match.fingerprint.cluster_id, {})
        if author.id not in members:
            members[author.id] = BatchMember(author.handle or author.id, author.url,
                                             MATCH_NOTE[match.fingerprint.kind.is_image])
    flagged = 0
    with store.atomic():
        store.count_fingerprint_matches([match.fingerprint.id for match in matches])
        for cluster_id, members in by_cluster.items():
            known = store.cluster_accounts(cluster_id) | store.batched_accounts(cluster_id)
            fresh = {account: member for account, member in members.items() if account not in known}
            if not fresh:
                continue
            batch_id = store.record_late_batch(cluster_id, sorted(fresh), BatchKind.KNOWN_CAMPAIGN, fresh)
            store.audit("known_campaign_flagged", "chorus", cluster_id=cluster_id, batch=batch_id,
                        accounts=len(fresh), posts=sum(m.post.author.id in fresh for m in matches))
            flagged += len(fresh)
    if flagged:
        log.info("known campaigns: %d accounts posted a suspended campaign's content", flagged)
    return flagged
