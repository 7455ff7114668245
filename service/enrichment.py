"""Filling in the account facts posts came without, for the accounts that matter, after the posts are stored.

Looking every author up as posts arrive spends the platform's request budget on accounts nobody
will review, and a poll that spent it can read no more posts. So only the authors of candidate
groups (min_accounts or more accounts sharing content) are looked up, largest groups first, in
the share of the budget left over from reading posts; what does not fit is asked at a later poll.
The facts are stored with the accounts and their posts, and the window's groups judged again, so
a cluster is scored again with the accounts' ages and its card brought up to date.
"""

from __future__ import annotations

import logging

from detectors import WindowIndex
from platforms.base import Enriching, Source
from storage import Store

log = logging.getLogger("chorus.poll")


def fill_in_accounts(store: Store, source: Source, index: WindowIndex) -> int:
    """Look up the candidate groups' authors that still lack facts, store what the platform told, and put it
    in the window; returns how many accounts were filled in (their groups are judged again by `clusters`)."""
    if not isinstance(source, Enriching):
        return 0
    wanted = [author for author in index.candidate_authors() if source.wants_facts(author)]
    if not wanted:
        return 0
    found = source.look_up(wanted)
    if found:
        store.update_accounts(found)
        index.update_authors(found)
    log.info("accounts: %d of %d candidate accounts lacking facts were filled in", len(found), len(wanted))
    return len(found)
