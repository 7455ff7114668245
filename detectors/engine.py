"""Detection entry points: `detect` over a batch and `WindowIndex` for the rolling poll window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chorus.models import Cluster, Post
from detectors.accounts import account_signals
from detectors.grouping import content_groups, merge_groups
from detectors.scoring import score_group


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """Tunable thresholds; the defaults are what `scan` reports and the bot posts."""

    window_hours: float = 24.0
    min_accounts: int = 3
    min_score: float = 0.5
    new_account_days: float = 30.0
    bunch_days: float = 7.0
    low_followers: int = 10


def _cluster(key: str, posts: list[Post], settings: DetectionSettings) -> Cluster:
    posts.sort(key=lambda post: (post.created_at, post.id))
    shared_media = {m.sha256 for post in posts for m in post.media if m.sha256}
    media_counts = {
        sha: len({post.author.id for post in posts if any(m.sha256 == sha for m in post.media)})
        for sha in shared_media
    }
    shared = sorted(sha for sha, count in media_counts.items() if count >= settings.min_accounts)
    signals = account_signals(posts, settings.new_account_days, settings.bunch_days, settings.low_followers)
    scored = score_group(
        posts, signals, settings.window_hours * 3600, settings.new_account_days, settings.bunch_days, len(shared)
    )
    accounts = list(dict.fromkeys(post.author.id for post in posts))
    return Cluster(
        key=key,
        score=scored.score,
        accounts=accounts,
        posts=[post.id for post in posts],
        reasons=scored.reasons,
        sample_text=next((post.text for post in posts if post.text.strip()), ""),
        first_seen=posts[0].created_at,
        last_seen=posts[-1].created_at,
        distinct_texts=scored.distinct_texts,
        media=shared,
        signals=scored.signals,
    )


def detect(posts: Sequence[Post], settings: DetectionSettings | None = None) -> list[Cluster]:
    """Find clusters worth a moderator's look, highest score first.

    Each account stands in at most one cluster: the highest-scoring one it belongs to.
    """
    settings = settings or DetectionSettings()
    groups = merge_groups(content_groups(posts, settings.min_accounts))
    candidates = sorted(
        (_cluster(key, members, settings) for key, members in groups), key=lambda c: (-c.score, c.key)
    )
    by_id = {post.id: post for post in posts}
    taken: set[str] = set()
    clusters: list[Cluster] = []
    for candidate in candidates:
        if candidate.score < settings.min_score:
            break
        free = [pid for pid in candidate.posts if by_id[pid].author.id not in taken]
        if len(free) != len(candidate.posts):
            if len({by_id[pid].author.id for pid in free}) < settings.min_accounts:
                continue
            candidate = _cluster(candidate.key, [by_id[pid] for pid in free], settings)
            if candidate.score < settings.min_score:
                continue
        taken.update(candidate.accounts)
        clusters.append(candidate)
    clusters.sort(key=lambda c: (-c.score, c.key))
    return clusters


class WindowIndex:
    """The posts of the rolling detection window; posts are added as polled and expire by age.

    Time is the newest post's time, not the wall clock, so replays and backfills behave alike.
    """

    def __init__(self, settings: DetectionSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        self._posts: dict[str, Post] = {}
        self.newest: datetime | None = None

    def __len__(self) -> int:
        return len(self._posts)

    def add(self, posts: Iterable[Post]) -> None:
        """Add posts (idempotent by post id) and drop those older than the window."""
        for post in posts:
            self._posts[post.id] = post
            if self.newest is None or post.created_at > self.newest:
                self.newest = post.created_at
        if self.newest is not None:
            horizon = self.newest - timedelta(hours=self.settings.window_hours)
            self._posts = {pid: p for pid, p in self._posts.items() if p.created_at >= horizon}

    def clusters(self) -> list[Cluster]:
        """Clusters among the posts now in the window."""
        return detect(list(self._posts.values()), self.settings)
