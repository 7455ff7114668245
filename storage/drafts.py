"""Review drafts: the accounts ticked so far in a review modal whose moderator moved to another of its pages,
kept until the modal is submitted (or a day has passed), so one submission covers every page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import orjson

from domain.decisions import Action
from storage.database import Database, to_db_time

DRAFT_DAYS = 1
"""A modal left open longer than this is abandoned; its draft is forgotten."""


class ReviewDrafts(Database):
    """One draft per open review modal (Slack's view id), belonging to one moderator and one cluster."""

    def merge_review_draft(self, view_id: str, cluster_id: str, moderator: str, shown: Sequence[str],
                           ticked: Mapping[str, Action]) -> dict[str, Action]:
        """Replace what the draft says of the `shown` accounts by `ticked` (account -> action) and return the
        whole draft; a draft of another moderator or cluster under the same view id is not trusted."""
        with self.atomic():
            self.db.execute("DELETE FROM review_drafts WHERE updated_at < ?",
                            [to_db_time(self.clock() - timedelta(days=DRAFT_DAYS))])
            draft = self.review_draft(view_id, cluster_id, moderator)
            for account in shown:
                draft.pop(account, None)
            draft |= ticked
            self.db["review_drafts"].upsert({"view_id": view_id, "cluster_id": cluster_id, "moderator": moderator,
                                             "plan": orjson.dumps(draft).decode(), "updated_at": self.now()},
                                            pk="view_id")
        return draft

    def review_draft(self, view_id: str, cluster_id: str, moderator: str) -> dict[str, Action]:
        """The accounts ticked so far in a modal (none if the view id is another moderator's or cluster's)."""
        row = self.db.execute("SELECT plan FROM review_drafts WHERE view_id = ? AND cluster_id = ? AND moderator = ?",
                              [view_id, cluster_id, moderator]).fetchone()
        return {account: Action(action) for account, action in orjson.loads(row[0]).items()} if row else {}

    def drop_review_draft(self, view_id: str) -> None:
        """Forget a modal's draft once it was submitted."""
        with self.atomic():
            self.db.execute("DELETE FROM review_drafts WHERE view_id = ?", [view_id])
