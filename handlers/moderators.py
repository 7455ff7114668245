"""Who may decide on cards: listed user ids, and members of a Slack user group."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("chorus.slack")

GROUP_CACHE_SECONDS = 60.0


class Moderators:
    """Who may decide: listed user ids, and members of a user group (looked up, cached for a minute)."""

    def __init__(self, user_ids: Sequence[str], group: str, client: WebClient) -> None:
        self.user_ids = frozenset(user_ids)
        self.group = group
        self.client = client
        self._members: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def includes(self, user_id: str) -> bool:
        """Whether `user_id` is a moderator; if the group cannot be read, only listed ids count."""
        return user_id in self.user_ids or (bool(self.group) and user_id in self._group_members())

    def _group_members(self) -> frozenset[str]:
        with self._lock:
            if time.monotonic() - self._fetched_at > GROUP_CACHE_SECONDS:
                try:
                    users = self.client.usergroups_users_list(usergroup=self.group)["users"]
                    self._members, self._fetched_at = frozenset(users), time.monotonic()
                except SlackApiError as error:
                    log.warning("cannot read moderator group %s: %s", self.group, error.response.get("error"))
            return self._members
