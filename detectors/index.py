"""The content graph of indexed posts: exact text, image and link nodes joined by near-copy edges.

Each post hangs off the nodes of its content: its normalised text, its images' sha256 and pHash.
Nodes are joined when texts verify as near-copies (MinHash LSH candidates, rapidfuzz check) or
pHashes are within a few bits, and when one post carries both a text and an image. Connected
components are the content groups that scoring then judges. Adding posts touches only their own
nodes and the components they join, so a poll costs what it adds, not what the window holds.

Work is done once per distinct thing: a raw text is normalised once per batch, an exact text
MinHashed once, so campaign copies and organic repeats cost a dictionary lookup each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from chorus.models import Post
from detectors import minhash
from detectors.bands import BandTable
from detectors.links import canonical_url
from detectors.media import MAX_PHASH_DISTANCE, PHASH_BANDS, parse_phash
from detectors.normalize import normalize_text
from detectors.similarity import LONG_CHARS, required_ratio

MIN_FUZZY_CHARS = 20
"""Shorter texts ('good morning!!') group only when exactly equal: fuzzy matches chain them."""
MIN_SPECIFIC_WORDS = 4
"""Content words (not stopwords) a text needs to be a specific message rather than a stock phrase."""


def digest(value: str) -> str:
    """A short stable fingerprint, used in cluster keys."""
    return hashlib.blake2b(value.encode(), digest_size=8).hexdigest()


class ContentIndex:
    """Nodes, their posts, and a union-find over nodes; components only grow until the index is rebuilt.

    A node's post list may still hold posts that left the window (removal is O(1)); readers keep
    only the live ones, and a list is compacted when most of it is dead.
    """

    def __init__(self) -> None:
        self.posts: dict[str, Post] = {}
        self.post_nodes: dict[str, tuple[int, ...]] = {}
        self.node_key: list[str] = []
        self.node_posts: list[list[Post]] = []
        self.node_live: list[int] = []
        self.node_text: dict[int, str] = {}
        self.key_node: dict[str, int] = {}
        self.parent: list[int] = []
        self.members: dict[int, list[int]] = {}
        """Nodes of each component of two or more nodes, by root (a lone node is its own member)."""
        self.dirty: set[int] = set()
        self._bands = BandTable()
        self._words = minhash.WordHashes()
        self._media: set[int] = set()
        self._phash_nodes: list[int] = []
        self._phash_values: list[int] = []

    @property
    def dead_nodes(self) -> int:
        """Nodes whose posts all left the window: memory a rebuild would give back."""
        return len(self.node_key) - sum(1 for live in self.node_live if live)

    def find(self, node: int) -> int:
        """The root of `node`'s component (with path halving)."""
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def nodes_of(self, root: int) -> list[int]:
        """The nodes of the component rooted at `root`."""
        return self.members.get(root) or [root]

    def union(self, a: int, b: int) -> None:
        """Join two components; the larger root survives and absorbs the other's members."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.nodes_of(ra)) < len(self.nodes_of(rb)):
            ra, rb = rb, ra
        self.parent[rb] = ra
        merged = self.members.pop(ra, None) or [ra]
        merged.extend(self.members.pop(rb, None) or [rb])
        self.members[ra] = merged
        self.dirty.discard(rb)
        self.dirty.add(ra)

    def _node(self, key: str) -> tuple[int, bool]:
        node = self.key_node.get(key)
        if node is not None:
            return node, False
        node = self.key_node[key] = len(self.node_key)
        self.node_key.append(key)
        self.node_posts.append([])
        self.node_live.append(0)
        self.parent.append(node)
        return node, True

    def is_text(self, node: int) -> bool:
        """Whether a node stands for a text (else for an image's sha256 or pHash)."""
        return node not in self._media

    def _text_node(self, text: str, key: str, new_texts: list[int]) -> int:
        """The node of a normalised text under `key`; a new one long enough to vary is queued for LSH."""
        node, fresh = self._node(key)
        if fresh and len(text) >= MIN_FUZZY_CHARS:
            self.node_text[node] = text
            new_texts.append(node)
        return node

    def _nodes_with_extras(self, post: Post, text: str, new_texts: list[int], new_phash: list[int]) -> list[int]:
        """Nodes of a post with links or images: a short text keyed with its links, plus image nodes."""
        key = text.replace(" ", "")
        if post.urls and len(key) < MIN_FUZZY_CHARS:
            key += "|" + "|".join(sorted(canonical_url(url) for url in post.urls))
        nodes = [self._text_node(text, key, new_texts)] if key else []
        for item in post.media:
            if item.sha256:
                node, _ = self._node("m:" + item.sha256.lower())
                nodes.append(node)
                self._media.add(node)
            value = parse_phash(item.phash)
            if value is not None:
                node, fresh = self._node(f"p:{value:016x}")
                nodes.append(node)
                if fresh:
                    self._media.add(node)
                    new_phash.append(node)
        joinable = [node for node in nodes if node in self.node_text or node in self._media]
        for other in joinable[1:]:
            self.union(joinable[0], other)
        return nodes

    def add(self, posts: Iterable[Post]) -> int:
        """Index posts not seen before (by id); return how many were new.

        Each distinct raw text is normalised and keyed once; a post then costs a lookup.
        """
        fresh = list({post.id: post for post in posts if post.id not in self.posts}.values())
        normalized = {text: normalize_text(text) for text in {post.text for post in fresh}}
        new_texts: list[int] = []
        new_phash: list[int] = []
        node_of_text = {raw: self._text_node(text, key, new_texts) if (key := text.replace(" ", "")) else -1
                        for raw, text in normalized.items()}
        index_posts, post_nodes, node_posts, node_live = self.posts, self.post_nodes, self.node_posts, self.node_live
        touched: set[int] = set()
        for post in fresh:
            index_posts[post.id] = post
            if post.media or post.urls:
                nodes = tuple(self._nodes_with_extras(post, normalized[post.text], new_texts, new_phash))
            else:
                node = node_of_text[post.text]
                nodes = (node,) if node >= 0 else ()
            post_nodes[post.id] = nodes
            for node in nodes:
                node_posts[node].append(post)
                node_live[node] += 1
            touched.update(nodes)
        self.dirty.update({self.find(node) for node in touched})
        self._link_texts(new_texts)
        self._link_phashes(new_phash)
        return len(fresh)

    def _link_texts(self, nodes: list[int]) -> None:
        """Find near-copy candidates of new texts by LSH and join those that verify."""
        if not nodes:
            return
        texts = [self.node_text[node] for node in nodes]
        keys = minhash.band_keys(minhash.signatures(texts, self._words))
        pairs = self._bands.add(keys, np.asarray(nodes, dtype=np.int64), self._alive)
        pairs = [(a, b) for a, b in pairs.tolist() if self.find(a) != self.find(b)]
        if not pairs:
            return
        left = [self.node_text[a] for a, _ in pairs]
        right = [self.node_text[b] for _, b in pairs]
        shorter = np.minimum([len(t) for t in left], [len(t) for t in right])
        need = np.array([required_ratio(n) for n in np.minimum(shorter, LONG_CHARS).tolist()])
        ok = cpdist(left, right, scorer=fuzz.ratio, workers=-1) >= need
        retry = np.flatnonzero(~ok & (shorter >= LONG_CHARS))
        if len(retry):
            resorted = cpdist([left[i] for i in retry], [right[i] for i in retry],
                              scorer=fuzz.token_sort_ratio, workers=-1)
            ok[retry] = resorted >= need[retry]
        for index in np.flatnonzero(ok).tolist():
            self.union(*pairs[index])

    def _link_phashes(self, nodes: list[int]) -> None:
        """Join new pHash nodes to all pHash nodes within MAX_PHASH_DISTANCE bits.

        Split into MAX_PHASH_DISTANCE + 1 bands, two hashes that close agree on a band
        (pigeonhole); per band, each new hash meets the equal-band hashes by a sorted search.
        """
        if not nodes:
            return
        self._phash_nodes.extend(nodes)
        self._phash_values.extend(int(self.node_key[node][2:], 16) for node in nodes)
        every = np.array(self._phash_values, dtype=np.uint64)
        owners = np.array(self._phash_nodes, dtype=np.int64)
        new = every[-len(nodes):]
        width = -(-64 // PHASH_BANDS)
        found = []
        for band in range(PHASH_BANDS):
            shift, mask = np.uint64(band * width), np.uint64((1 << width) - 1)
            keys = (every >> shift) & mask
            order = np.argsort(keys, kind="stable")
            ranked = keys[order]
            wanted = (new >> shift) & mask
            low, high = np.searchsorted(ranked, wanted, "left"), np.searchsorted(ranked, wanted, "right")
            counts = high - low
            source = np.repeat(np.arange(len(new)), counts)
            target = order[np.repeat(low - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
            found.append(np.column_stack([source, target]))
        pairs = np.concatenate(found)
        close = np.bitwise_count(new[pairs[:, 0]] ^ every[pairs[:, 1]]) <= MAX_PHASH_DISTANCE
        first = len(every) - len(nodes)
        for a, b in pairs[close].tolist():
            if first + a != b:
                self.union(nodes[a], int(owners[b]))

    def _alive(self, nodes: np.ndarray) -> np.ndarray:
        return np.asarray(self.node_live, dtype=np.int64)[nodes] > 0

    def remove(self, post_ids: Iterable[str]) -> None:
        """Take posts out (they left the window); their components are re-judged."""
        for post_id in post_ids:
            if self.posts.pop(post_id, None) is None:
                continue
            for node in self.post_nodes.pop(post_id, ()):
                self.node_live[node] -= 1
                self.dirty.add(self.find(node))

    def _live_posts(self, node: int) -> list[Post]:
        held = self.node_posts[node]
        if self.node_live[node] * 2 < len(held):
            posts = self.posts
            held = self.node_posts[node] = [post for post in held if posts.get(post.id) is post]
        return held

    def potential_posts(self, root: int) -> int:
        """Live posts of a component counted per node (a post with text and image counts twice)."""
        return sum(self.node_live[node] for node in self.nodes_of(root))

    def component_posts(self, root: int) -> list[Post]:
        """The live posts of a component, each once."""
        posts = self.posts
        found: dict[str, Post] = {}
        for node in self.nodes_of(root):
            for post in self._live_posts(node):
                if posts.get(post.id) is post:
                    found[post.id] = post
        return list(found.values())

    def specific(self, root: int) -> bool:
        """Whether a component holds content specific enough to be one message: an image, or a text
        of MIN_SPECIFIC_WORDS content words. Only such messages count as evidence of co-posting."""
        for node in self.nodes_of(root):
            if node in self._media:
                return True
            text = self.node_text.get(node)
            if text and sum(word not in minhash.STOPWORDS for word in text.split()) >= MIN_SPECIFIC_WORDS:
                return True
        return False
