"""Where cluster cards and digests go: the interface the console and Slack notifiers share."""

from __future__ import annotations

from typing import Protocol

from domain.views import ClusterChange, ClusterView, Digest, LateBatch


class Notifier(Protocol):
    """Announces clusters and digests to moderators."""

    def publish(self, view: ClusterView, change: ClusterChange) -> tuple[str | None, str | None]:
        """Post a new card or update a grown one; return (channel, message ts) of the card, if any."""
        ...

    def publish_batch(self, view: ClusterView, batch: LateBatch) -> tuple[str | None, str | None]:
        """Reply under a posted card with a batch of accounts its decision does not cover (known campaign posters,
        siblings) and their own buttons; return (channel, message ts) of the reply."""
        ...

    def digest_chart(self, digest: Digest) -> str | None:
        """Put the digest's chart where the digest can show it; returns a reference to it (None: no chart)."""
        ...

    def digest(self, digest: Digest, chart: str | None = None) -> None:
        """Post a digest, showing the chart `digest_chart` returned for it."""
        ...

    def notice(self, text: str) -> None:
        """Tell the moderators something they should know of: a platform problem (a disabled timeline, a missing
        scope) or a failing job and its recovery. Must not block on the channel it reports to."""
        ...
