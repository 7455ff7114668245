"""Exact grouping: posts that share a normalised text or an image hash, across accounts."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from chorus.models import Post
from detectors.normalize import normalize_text

MIN_TEXT_CHARS = 12
"""Shorter normalised texts ("lol", "good morning") are too generic to group on alone."""


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=8).hexdigest()


def content_groups(posts: Sequence[Post], min_accounts: int) -> list[tuple[str, list[Post]]]:
    """Group posts by shared normalised text and by shared media sha256.

    Returns `(key, posts)` pairs for groups with at least `min_accounts` distinct authors; a
    post can stand in a text group and a media group, which `merge_groups` joins.
    """
    by_key: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        text = normalize_text(post.text)
        if len(text) >= MIN_TEXT_CHARS:
            by_key["text:" + _digest(text)].append(post)
        for media in post.media:
            if media.sha256:
                by_key["media:" + media.sha256.lower()].append(post)
    return [
        (key, members)
        for key, members in by_key.items()
        if len({post.author.id for post in members}) >= min_accounts
    ]


def merge_groups(groups: Iterable[tuple[str, list[Post]]]) -> list[tuple[str, list[Post]]]:
    """Join groups that share a post, so one campaign's text and image make one cluster.

    The merged group keeps the smallest key of its parts, which keeps it stable as it grows.
    """
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    group_list = list(groups)
    owner: dict[str, str] = {}
    for key, members in group_list:
        parent.setdefault(key, key)
        for post in members:
            other = owner.setdefault(post.id, key)
            if other != key:
                a, b = find(other), find(key)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    merged: dict[str, dict[str, Post]] = defaultdict(dict)
    for key, members in group_list:
        bucket = merged[find(key)]
        for post in members:
            bucket[post.id] = post
    return [(key, list(bucket.values())) for key, bucket in merged.items()]
