"""The content graph of indexed posts: exact text, image and link nodes joined by near-copy edges.

Each post hangs off the nodes of its content: its normalised text, its images' sha256 and pHash.
Nodes are joined when texts verify as near-copies (MinHash LSH candidates, rapidfuzz check) or
pHashes are within a few bits, and when one post carries both a text and an image. Connected
components are the content groups that scoring then judges. Adding posts touches only their own
nodes and the components they join, so a poll costs what it adds, not what the window holds.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from chorus.models import Post
from detectors import minhash
from detectors.bands import BandTable
from detectors.links import canonical_url
from detectors.media import MAX_PHASH_DISTANCE, parse_phash, phash_bands, phash_distance
from detectors.normalize import normalize_text, squash
from detectors.similarity import LONG_CHARS, required_ratio

MIN_FUZZY_CHARS = 20
"""Shorter texts ('good morning!!') group only when exactly equal: fuzzy matches chain them."""


def digest(value: str) -> str:
    """A short stable fingerprint, used in cluster keys."""
    return hashlib.blake2b(value.encode(), digest_size=8).hexdigest()


class ContentIndex:
    """Nodes, their posts, and a union-find over nodes; components only grow until posts expire."""

    def __init__(self) -> None:
        self.posts: dict[str, Post] = {}
        self.post_nodes: dict[str, tuple[int, ...]] = {}
        self.node_key: list[str] = []
        self.node_posts: list[set[str]] = []
        self.node_text: dict[int, str] = {}
        self.key_node: dict[str, int] = {}
        self.parent: list[int] = []
        self.members: dict[int, list[int]] = {}
        self.dirty: set[int] = set()
        self._bands = BandTable()
        self._vocabulary: dict[str, int] = {}
        self._phash_buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        self._phash_value: dict[int, int] = {}

    def find(self, node: int) -> int:
        """The root of `node`'s component (with path halving)."""
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        """Join two components; the larger root survives and absorbs the other's members."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        self.dirty.discard(rb)
        self.dirty.add(ra)

    def _node(self, key: str) -> tuple[int, bool]:
        node = self.key_node.get(key)
        if node is not None:
            return node, False
        node = self.key_node[key] = len(self.node_key)
        self.node_key.append(key)
        self.node_posts.append(set())
        self.parent.append(node)
        self.members[node] = [node]
        return node, True

    def _content_keys(self, post: Post) -> tuple[tuple[str, str] | None, list[str]]:
        """The post's text node key (with its normalised text) and its image node keys."""
        text = normalize_text(post.text)
        key = squash(text)
        if len(key) < MIN_FUZZY_CHARS and post.urls:
            key += "|" + "|".join(sorted(canonical_url(url) for url in post.urls))
        media_keys = []
        for item in post.media:
            if item.sha256:
                media_keys.append("m:" + item.sha256.lower())
            value = parse_phash(item.phash)
            if value is not None:
                media_keys.append(f"p:{value:016x}")
        return (("t:" + key, text) if key else None), media_keys

    def add(self, posts: Iterable[Post]) -> int:
        """Index posts not seen before (by id); return how many were new."""
        new_texts: list[int] = []
        new_phash: list[tuple[int, int]] = []
        added = 0
        for post in posts:
            if post.id in self.posts:
                continue
            added += 1
            self.posts[post.id] = post
            text_entry, media_keys = self._content_keys(post)
            nodes = []
            if text_entry is not None:
                node, fresh = self._node(text_entry[0])
                nodes.append(node)
                if fresh and len(text_entry[1]) >= MIN_FUZZY_CHARS:
                    self.node_text[node] = text_entry[1]
                    new_texts.append(node)
            for key in media_keys:
                node, fresh = self._node(key)
                nodes.append(node)
                if fresh and key.startswith("p:"):
                    new_phash.append((node, int(key[2:], 16)))
            for node in nodes:
                self.node_posts[node].add(post.id)
                self.dirty.add(self.find(node))
            self.post_nodes[post.id] = tuple(nodes)
            joinable = [n for n in nodes if not self.node_key[n].startswith("t:") or n in self.node_text]
            for other in joinable[1:]:
                self.union(joinable[0], other)
        self._link_texts(new_texts)
        self._link_phashes(new_phash)
        return added

    def _link_texts(self, nodes: list[int]) -> None:
        """Find near-copy candidates of new texts by LSH and join those that verify."""
        if not nodes:
            return
        texts = [self.node_text[node] for node in nodes]
        keys = minhash.band_keys(minhash.signatures(texts, self._vocabulary))
        pairs = self._bands.add(keys, np.asarray(nodes, dtype=np.int64), self._alive)
        pairs = [(a, b) for a, b in pairs.tolist() if self.find(a) != self.find(b)]
        if not pairs:
            return
        left = [self.node_text[a] for a, _ in pairs]
        right = [self.node_text[b] for _, b in pairs]
        shorter = np.minimum([len(t) for t in left], [len(t) for t in right])
        need = np.where(shorter >= LONG_CHARS, required_ratio(LONG_CHARS), 0.0)
        need = np.where(shorter < LONG_CHARS, [required_ratio(n) for n in shorter], need)
        scores = cpdist(left, right, scorer=fuzz.ratio, workers=-1)
        ok = scores >= need
        retry = np.flatnonzero(~ok & (shorter >= LONG_CHARS))
        if len(retry):
            resorted = cpdist([left[i] for i in retry], [right[i] for i in retry],
                              scorer=fuzz.token_sort_ratio, workers=-1)
            ok[retry] = resorted >= need[retry]
        for index in np.flatnonzero(ok).tolist():
            self.union(*pairs[index])

    def _link_phashes(self, nodes: list[tuple[int, int]]) -> None:
        """Join new pHash nodes to earlier ones within MAX_PHASH_DISTANCE bits."""
        for node, value in nodes:
            self._phash_value[node] = value
            for band in phash_bands(value):
                bucket = self._phash_buckets[band]
                for other in bucket:
                    if phash_distance(value, self._phash_value[other]) <= MAX_PHASH_DISTANCE:
                        self.union(node, other)
                bucket.append(node)

    def _alive(self, nodes: np.ndarray) -> np.ndarray:
        return np.fromiter((bool(self.node_posts[n]) for n in nodes.tolist()), dtype=bool, count=len(nodes))

    def remove(self, post_ids: Iterable[str]) -> None:
        """Take posts out (they left the window); their components are re-judged."""
        for post_id in post_ids:
            self.posts.pop(post_id, None)
            for node in self.post_nodes.pop(post_id, ()):
                self.node_posts[node].discard(post_id)
                self.dirty.add(self.find(node))

    def component_posts(self, root: int) -> list[Post]:
        """The live posts of a component, each once."""
        ids: set[str] = set()
        for node in self.members.get(root, ()):
            ids.update(self.node_posts[node])
        return [self.posts[post_id] for post_id in ids]

    def distinctive(self, root: int) -> bool:
        """Whether a component holds content specific enough to be a message: a long text or an image."""
        return any(node in self.node_text or not self.node_key[node].startswith("t:")
                   for node in self.members.get(root, ()))
