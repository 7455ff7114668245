"""The content graph of indexed posts: text and image nodes joined by near-copy edges.

Each post hangs off the nodes of its content: its normalised text (a short one keyed together
with its canonical links), its images' sha256 and pHash.
Nodes are joined when texts verify as near-copies (MinHash LSH candidates, rapidfuzz check), when
pHashes are within a few bits, and when they are one post's images. Connected components are the
message groups (a text and its near-copies, or a picture and its re-encodings) that co-posting
merges and scoring then judges. Adding posts touches only their own
nodes and the components they join, so a poll costs what it adds, not what the window holds.

Work is done once per distinct thing: a raw text is normalised once per batch, an exact text
MinHashed once, so campaign copies and organic repeats cost a dictionary lookup each.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from itertools import chain, compress, count, repeat
from operator import add, attrgetter, is_not, or_

import numpy as np
from msgspec.structs import replace

from detectors import minhash
from detectors.bands import MAX_BATCH, BandTable, batch_pairs, sorted_distinct
from detectors.nodes import MIN_FUZZY_CHARS, has_content, post_node_keys, specific_texts
from detectors.normalize import normalize_text, squash
from detectors.parallel import split_map
from detectors.phashes import PHashTable
from detectors.similarity import could_be_copies, near_copies
from detectors.templates import template_key
from detectors.texts import PreparedTexts, TextRows
from domain.models import Author, Post

FUZZY, FACTS, CONTENT, LIVE = 1, 2, 4, 8
"""Bits of a node's flags: a text matched fuzzily; its text's facts are known (`specific`); it has content words;
it has a live post (kept with the flags so that liveness is read as an array, not list by list)."""
FEW = 16
"""A poll's nodes are looked up one by one when the index holds this many times more; else every node is read
as an array at once, cheaper per node."""
COMPACT_PAIRS = 1 << 18
"""Candidate pairs a compaction verifies at a time: the texts it re-reads for them are held for one step only
(a million-post window's 880k pairs re-read 570k texts, held at once ~60 MB)."""


RELEASED = ()
"""The post list of every node whose posts all left (`ContentIndex._release`): one shared empty tuple, which no
post is ever filed into, as no key leads to a released node."""
_ID, _TEXT, _EXTRAS = attrgetter("id"), attrgetter("text"), attrgetter("media", "urls")
_CREATED, _AUTHOR, _AUTHOR_ID = attrgetter("created_at"), attrgetter("author"), attrgetter("author.id")


def share_repeats(posts: list[Post], authors: dict[str, Author],
                  times: dict[datetime, datetime] | None = None) -> list[Post]:
    """The posts, holding the first equal `Author` seen with their author's id (and the first equal post time).

    Every record decodes its own author and time; a million posts by a few hundred thousand accounts,
    a dozen a second, then hold ~300 bytes each that an earlier post already holds. Sharing them is
    most of the memory that can be given back without changing a post (a changed profile keeps its own).
    Posts that already share both cost two C-level passes.
    """
    firsts = list(map(authors.setdefault, map(_AUTHOR_ID, posts), map(_AUTHOR, posts)))
    stamps = list(map(times.setdefault, map(_CREATED, posts), map(_CREATED, posts))) if times is not None \
        else list(map(_CREATED, posts))
    shared = list(posts)
    differing = map(or_, map(is_not, firsts, map(_AUTHOR, posts)), map(is_not, stamps, map(_CREATED, posts)))
    for at in compress(count(), differing):
        post, first = posts[at], firsts[at]
        author = first if first == post.author else post.author
        if author is not post.author or stamps[at] is not post.created_at:
            shared[at] = replace(post, author=author, created_at=stamps[at])
    return shared


def _columns(compute: Callable[..., np.ndarray], *args: object) -> list[np.ndarray | None]:
    """The (texts, bands) keys `compute(*args)` gives, one array a band (as `BandTable.add` takes them)."""
    return list(compute(*args).T)


def _first_rows(nodes: list[int], count: int) -> np.ndarray:
    """For each of `count` nodes, the first row of `nodes` (texts by row, numbered in order of first appearance)
    that is its: the row of its first post's text (-1 for a node no text has)."""
    node_at = np.array(nodes, dtype=np.int64)
    held = np.flatnonzero(node_at >= 0)
    filed, first = np.unique(node_at[held], return_index=True)
    rows = np.full(count, -1, dtype=np.int64)
    rows[filed] = held[first]
    return rows


def digest(value: str) -> str:
    """A short stable fingerprint, used in cluster keys."""
    return hashlib.blake2b(value.encode(), digest_size=8).hexdigest()


class ContentIndex:
    """Nodes, their posts, and a union-find over nodes; components only grow until `compact`.

    A node's post list may still hold posts that left the window, never more than its live ones
    (removal is amortised O(1)); readers keep only the live ones. `compact` drops dead nodes.
    """

    def __init__(self, one_batch: bool = False) -> None:
        self.one_batch = one_batch
        """An index of one batch (a scan) keeps no band table (~190 MB at 1M texts): it takes no later posts and
        is never compacted."""
        self.posts: dict[str, Post] = {}
        self.post_nodes: dict[str, int | tuple[int, ...]] = {}
        """A post's node (-1 for none), or its nodes when it has several (see `nodes_of_post`)."""
        self.node_key: list[str] = []
        self.node_posts: list[list[Post] | tuple[()]] = []
        self.node_dead: dict[int, int] = {}
        """Expired posts still in a node's list, by node: never most of it (`remove` drops them then)."""
        self._flags = bytearray()
        """Bit FUZZY for a text node long enough to match near-copies (its text is re-read from a post when
        needed); once `specific` has read its text, FACTS and, if the text has content words, CONTENT; LIVE while
        its list holds a live post (a node whose posts all left holds none, see `remove`)."""
        self._templates = array("I")
        """Each fuzzy node's `templates.template_key`, valid once its FACTS bit is set."""
        self._chars = (array("I"), array("I"))
        """Shortest and longest normalised text ever filed under each node, so a candidate pair whose lengths
        rule it out is dropped before an earlier text is re-read (0xFFFFFFFF, 0 for none yet)."""
        self.key_node: dict[str, int] = {}
        self.parent: list[int] = []
        self.members: dict[int, list[int]] = {}
        """Nodes of each component of two or more nodes, by root (a lone node is its own member)."""
        self.dirty: set[int] = set()
        self._bands = BandTable()
        self._words = minhash.WordHashes()
        self._media: set[int] = set()
        self._authors: dict[str, Author] = {}
        """The `Author` each account's posts share: the first seen, or at a compaction the one its earliest live
        post holds. Starting afresh at each compaction gave each account a second `Author` (and its strings) in
        the window until its older posts expired: ~5 objects an active account."""
        self._phashes = PHashTable()
        self._batch_texts: tuple[list[str], np.ndarray] | None = None
        """A one-batch index's normalised texts and, by node, where its first post's is: `text_of` reads them
        rather than normalising ~200,000 texts again (~2 s of a million-post scan); they outlive the band work,
        the scan's peak, by the judging only."""

    @property
    def dead_nodes(self) -> int:
        """Nodes whose posts all left the window: memory `compact` gives back."""
        return len(self._flags) - int(self.alive().sum())

    def find(self, node: int) -> int:
        """The root of `node`'s component (with path halving)."""
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return parent[node]  # the table's own int object, not the caller's equal copy: tables share one a node

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
        self.dirty.add(ra)
        self.dirty.add(rb)  # no root now: whatever was made of it is let go of

    def _nodes_for(self, keys: list[str]) -> list[int]:
        """The node of each key, creating the missing ones in bulk (C-level list and dict growth)."""
        key_node = self.key_node
        missing = dict.fromkeys(keys)
        for key in missing.keys() & key_node.keys():  # C-level: the smaller side is walked
            del missing[key]
        first = len(self.node_key)
        created = list(range(first, first + len(missing)))  # one int object a node, shared by the tables below
        key_node.update(zip(missing, created, strict=True))
        self.node_key.extend(missing)
        self.node_posts.extend([] for _ in created)
        self._flags.extend(bytes(len(missing)))
        self._templates.frombytes(bytes(4 * len(missing)))
        self._grow_chars(len(missing))
        self.parent.extend(created)
        return list(map(key_node.__getitem__, keys))

    def _node(self, key: str) -> tuple[int, bool]:
        """The node of one key, and whether it was just made."""
        node = self.key_node.get(key)
        if node is not None:
            return node, False
        node = self.key_node[key] = len(self.node_key)
        self.node_key.append(key)
        self.node_posts.append([])
        self._flags.append(0)
        self._templates.append(0)
        self._grow_chars(1)
        self.parent.append(node)
        return node, True

    def _grow_chars(self, count: int) -> None:
        """Length ranges for `count` new nodes, empty until a text is filed under them."""
        shortest, longest = self._chars
        shortest.frombytes(b"\xff" * (4 * count))
        longest.frombytes(bytes(4 * count))

    def _note_chars(self, nodes: np.ndarray, chars: np.ndarray) -> None:
        """Widen the length range of each of `nodes` (-1: none) to the text of `chars` filed under it."""
        held = nodes >= 0
        shortest, longest = (np.frombuffer(column, dtype=np.uint32) for column in self._chars)
        np.minimum.at(shortest, nodes[held], chars[held].astype(np.uint32))
        np.maximum.at(longest, nodes[held], chars[held].astype(np.uint32))

    def is_text(self, node: int) -> bool:
        """Whether a node stands for a text (else for an image's sha256 or pHash)."""
        return node not in self._media

    def nodes_of_post(self, post_id: str) -> tuple[int, ...]:
        """The content nodes a post hangs off (its text first)."""
        nodes = self.post_nodes[post_id]
        if type(nodes) is int:
            return (nodes,) if nodes >= 0 else ()
        return nodes

    def is_fuzzy(self, node: int) -> bool:
        """Whether a node is a text long enough to be matched with its near-copies."""
        return node >= 0 and self._flags[node] & FUZZY != 0

    def text_of(self, node: int) -> str | None:
        """The normalised text of a text node, re-read from its first post (a window keeps none, to save memory;
        a one-batch index reads the scan's prepared ones); None once every post of the node has expired."""
        if self._batch_texts is not None:
            texts, first = self._batch_texts
            return texts[first[node]]
        held = self.node_posts[node]
        return normalize_text(held[0].text) if held else None

    def _text_nodes(self, texts: list[str]) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Nodes of normalised texts (-1 for an empty one); then the nodes to band for LSH (new ones long enough
        to vary), ascending, and where in `texts` the text of each of those is (the last one with its key).
        Worked out in arrays: a scan makes a million nodes at once."""
        first = len(self.node_key)
        self.key_node[""] = -1  # the empty text has no node: known, so never made
        nodes = self._nodes_for(list(map(squash, texts)))
        del self.key_node[""]
        node_at = np.array(nodes, dtype=np.int64)
        held = np.flatnonzero(node_at >= 0)
        touched, latest = np.unique(node_at[held][::-1], return_index=True)
        last = held[::-1][latest]  # where each touched node's text last is; every new node is touched
        created_at = last[touched >= first]
        lengths = np.fromiter(map(len, np.array(texts, dtype=object)[created_at]), dtype=np.int64,
                              count=len(created_at))
        fuzzy = lengths >= MIN_FUZZY_CHARS
        self._flags[first:] = fuzzy.astype(np.uint8).tobytes()
        return nodes, np.arange(first, len(self.node_key))[fuzzy], created_at[fuzzy]

    def _nodes_with_extras(self, post: Post, text_node: int, new_phash: list[int]) -> list[int]:
        """Nodes of a post with links or images (see `nodes.post_node_keys`); new pHash nodes go to `new_phash`."""
        text_key = self.node_key[text_node] if text_node >= 0 else ""
        nodes = []
        for ref in post_node_keys(post, text_key, self.is_fuzzy(text_node)):
            node, fresh = self._node(ref.key)
            nodes.append(node)
            if not ref.is_text:
                self._media.add(node)
                if fresh and ref.key.startswith("p:"):
                    new_phash.append(node)
        self._join_post_nodes(nodes)
        return nodes

    def _join_post_nodes(self, nodes: Iterable[int]) -> None:
        """One post's images (their sha256 and pHash nodes) are one picture message: join them.

        Its text stays a message of its own: a campaign that posts copied captions under its image
        must not be joined, caption by caption, to the organic authors it copied. Text and image
        groups with the same accounts behind them are merged by co-posting instead.
        """
        joinable = [node for node in nodes if node in self._media]
        for other in joinable[1:]:
            self.union(joinable[0], other)

    def add(self, posts: Iterable[Post], prepared: PreparedTexts | None = None) -> int:
        """Index posts not seen before (by id); return how many were new.

        Each distinct raw text is normalised and keyed once, nodes are made in bulk, and posts
        are filed with C-level dict updates and list appends; only posts with images or links
        take a Python step each, to find their other nodes. `prepared` may hold every text's
        normalised form and band keys, computed ahead of time (see `detectors.texts`).
        """
        posts, known = list(posts), self.posts
        if self.one_batch and known:
            raise ValueError("an index of one batch takes no later posts")
        fresh = list({post.id: post for post in posts if post.id not in known}.values()) if known else posts
        if prepared is None:  # a scan's read (which prepares texts) has shared them already
            fresh = share_repeats(fresh, self._authors, {})  # a poll's posts of one second share its time
        ids = list(map(_ID, fresh))
        before = len(known)
        known.update(zip(ids, fresh, strict=True))
        if len(known) - before < len(fresh):  # repeated ids in the batch: the last one stands, as in a dict
            fresh = list({post.id: post for post in fresh}.values())
            ids = list(map(_ID, fresh))
        post_texts = list(map(_TEXT, fresh))
        ahead = prepared.normalized(post_texts) if prepared else None
        if ahead is None:  # rows number distinct texts in input order: the same nodes every run
            rows, raw_texts = TextRows().add(post_texts)
            texts = split_map(lambda part: list(map(normalize_text, part)), raw_texts, add)
        else:
            rows, texts = ahead
        nodes, new_nodes, new_at = self._text_nodes(texts)
        if self.one_batch:
            self._batch_texts = texts, _first_rows(nodes, len(self.node_key))
        text_chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        new_texts = np.array(texts, dtype=object)[new_at].tolist()
        band_keys = ((prepared.band_keys, new_at) if prepared and ahead is not None
                     else (partial(_columns, minhash.text_band_keys, new_texts, self._words), None))
        del new_at, post_texts, texts, ahead
        text_nodes = np.array(nodes, dtype=object)[rows].tolist()  # shares the nodes' int objects: ~32 MB a 1M
        self._note_chars(np.array(nodes, dtype=np.int64)[rows], text_chars[rows])
        self.post_nodes.update(zip(ids, text_nodes, strict=True))
        touched = set(text_nodes)
        filed = list(zip(text_nodes))  # the nodes each post is filed under: its text's, or those below
        for at in compress(count(), map((-1).__eq__, text_nodes)):  # an empty text has no node
            filed[at] = ()
        new_phash: list[int] = []
        for at in compress(count(), map(any, map(_EXTRAS, fresh))):  # posts with images or links
            post = fresh[at]
            filed[at] = held = tuple(dict.fromkeys(self._nodes_with_extras(post, text_nodes[at], new_phash)))
            self.post_nodes[post.id] = held
            touched.update(held)
        deque(map(list.append, map(self.node_posts.__getitem__, chain.from_iterable(filed)),
                  chain.from_iterable(map(repeat, fresh, map(len, filed)))), maxlen=0)
        np.frombuffer(self._flags, dtype=np.uint8)[np.fromiter(chain.from_iterable(filed), dtype=np.int64)] |= LIVE
        del filed
        touched.discard(-1)
        parent, find = self.parent, self.find
        self.dirty.update({node if parent[node] == node else find(node) for node in touched})
        del touched, text_nodes, rows, nodes, text_chars  # a million entries each: not held while linking
        self._link_texts(new_nodes, new_texts, band_keys)
        self._link_phashes(new_phash)
        return len(fresh)

    def _link_texts(self, nodes: np.ndarray, texts: list[str],
                    band_keys: tuple[Callable[[], list[np.ndarray | None]], np.ndarray | None]) -> None:
        """Pair new texts (ascending nodes) with earlier holders of their band keys; join the pairs that verify.

        `band_keys` computes the keys (or hands over those prepared ahead), with the rows of them that are
        these texts' (None: all, in order). `texts` is emptied once the texts of candidate pairs are picked.
        """
        if not len(nodes):
            return
        compute, rows = band_keys
        if self.one_batch and len(nodes) <= MAX_BATCH:
            pairs = batch_pairs(compute(), nodes, rows)
        else:
            pairs = self._bands.add(compute(), nodes, self.alive, rows)
        ends = sorted_distinct(pairs.flatten())
        at = np.minimum(np.searchsorted(nodes, ends), len(nodes) - 1)
        known = nodes[at] == ends
        end_texts = np.array(texts, dtype=object)[at]
        end_texts[~known] = None  # earlier texts: re-read only if a pair still needs them
        texts.clear()  # texts in no candidate pair are not held while the pairs are verified
        self._join_near_copies(pairs, ends, end_texts, known)

    def _roots(self, nodes: np.ndarray) -> np.ndarray:
        """The root of each of `nodes`, as `find` gives it, by array passes up the parent pointers."""
        if FEW * len(nodes) < len(self.parent):
            parent, roots = self.parent.__getitem__, nodes.tolist()
            while (up := list(map(parent, roots))) != roots:
                roots = up
            return np.asarray(roots, dtype=np.int64)
        pointers = np.asarray(self.parent, dtype=np.int64)
        roots = nodes
        while not np.array_equal(up := pointers[roots], roots):
            roots = up
        return roots

    def _join_near_copies(self, pairs: np.ndarray, ends: np.ndarray, end_texts: np.ndarray, known: np.ndarray) -> None:
        """Join the candidate pairs of text nodes (n, 2) that verify as near-copies; skip dead or joined ones.

        `ends` are the distinct nodes of `pairs`, sorted, and `end_texts` their texts where `known`; the
        other ends' texts are re-read from a post, and only for pairs that neither their roots nor their
        length ranges rule out. Pairs are sifted and looked up as arrays: a scan has millions.
        """
        if not len(pairs):
            return
        left, right = np.searchsorted(ends, pairs[:, 0]), np.searchsorted(ends, pairs[:, 1])
        alive = known.copy()
        alive[~known] = self.alive(ends[~known])
        roots = self._roots(ends)
        shortest, longest = (np.frombuffer(column, dtype=np.uint32)[ends].astype(np.int64) for column in self._chars)
        shortest[known] = longest[known] = np.fromiter(map(len, end_texts[known]), dtype=np.int64,
                                                       count=int(known.sum()))
        keep = alive[right] & (roots[left] != roots[right])
        guessed = np.flatnonzero(keep & ~(known[left] & known[right]))  # pairs of known texts: near_copies sifts
        keep[guessed] = could_be_copies(shortest[left[guessed]], longest[left[guessed]], shortest[right[guessed]],
                                        longest[right[guessed]])
        wanted = np.zeros(len(ends), dtype=bool)
        wanted[left[keep]] = wanted[right[keep]] = True
        for where in np.flatnonzero(wanted & ~known).tolist():
            end_texts[where] = self.text_of(int(ends[where]))
        if not keep.any():
            return
        ok = near_copies(end_texts[left[keep]].tolist(), end_texts[right[keep]].tolist())
        for a, b in pairs[keep][ok].tolist():
            self.union(a, b)

    def _link_phashes(self, nodes: list[int]) -> None:
        """Join new pHash nodes to every pHash node within MAX_PHASH_DISTANCE bits (see `phashes`)."""
        for a, b in self._phashes.add(nodes, [int(self.node_key[node][2:], 16) for node in nodes]):
            self.union(a, b)

    def remove(self, post_ids: Iterable[str]) -> None:
        """Take posts out (they left the window); their components are re-judged.

        A node's list lets go of its expired posts as soon as they are most of it (so a node whose
        posts all expired holds none), which keeps removal amortised O(1) and frees the posts.
        """
        posts, node_posts, node_dead = self.posts, self.node_posts, self.node_dead
        for post_id in post_ids:
            if posts.pop(post_id, None) is None:
                continue
            nodes = self.nodes_of_post(post_id)
            del self.post_nodes[post_id]
            for node in nodes:
                dead = node_dead.pop(node, 0) + 1
                held = node_posts[node]
                if 2 * dead > len(held):
                    node_posts[node] = [post for post in held if posts.get(post.id) is post]
                    if not node_posts[node]:
                        self._release(node)
                else:
                    node_dead[node] = dead
                self.dirty.add(self.find(node))

    def _release(self, node: int) -> None:
        """Let go of what a node whose last post left holds: its key (content that comes back gets a new node,
        as after a compaction) and its list. Its place in the tables and its joins stay until `compact`.

        Up to `engine.COMPACT_DEAD_SHARE` of the nodes are dead between compactions; their keys and lists held
        ~60 MB of a million-post window's peak.
        """
        self._flags[node] &= ~LIVE
        del self.key_node[self.node_key[node]]
        self.node_key[node] = ""
        self.node_posts[node] = RELEASED

    def replace(self, posts: Iterable[Post]) -> None:
        """Put new versions of indexed posts (the same id and content, say with their author's facts filled in)
        in place of the old ones; the components they are in are judged again."""
        known, old = self.posts, {}
        for post in posts:
            before = known.get(post.id)
            if before is not None:
                old[post.id], known[post.id] = before, post
        for node in {node for post_id in old for node in self.nodes_of_post(post_id)}:
            self.node_posts[node] = [known[post.id] if old.get(post.id) is post else post
                                     for post in self.node_posts[node]]
            self.dirty.add(self.find(node))

    def compact(self) -> None:
        """Drop the nodes whose posts all left the window and join what is left afresh.

        Gives back the memory of expired content and undoes joins made only through it, as
        indexing the live posts anew would, without normalising or MinHashing anything again:
        nodes keep their order and band keys, and components are re-derived from live evidence
        (a post's own text and images, verified near-copies, close pHashes). Every component
        is dirty afterwards.
        """
        if self.one_batch:
            raise ValueError("an index of one batch keeps no band table to compact")
        posts = self.posts
        for node in self.node_dead:
            self.node_posts[node] = [post for post in self.node_posts[node] if posts.get(post.id) is post]
        self.node_dead.clear()
        live = self.alive()  # a node with expired posts in its list still holds most of them live (`remove`)
        renumber = np.where(live, np.cumsum(live) - 1, -1)
        kept = list(range(int(live.sum())))  # one int object a node, shared by the tables below, as `add` makes them
        mapping = [*np.array([*kept, -1], dtype=object)[renumber].tolist(), -1]  # the last maps "no node" to itself
        self.node_key = list(compress(self.node_key, live))
        self.node_posts = list(compress(self.node_posts, live))
        self._flags = bytearray(np.frombuffer(self._flags, dtype=np.uint8)[live].tobytes())
        self._templates = array("I", np.frombuffer(self._templates, dtype=np.uint32)[live].tobytes())
        self._chars = tuple(array("I", np.frombuffer(column, dtype=np.uint32)[live].tobytes())  # type: ignore[assignment]
                            for column in self._chars)
        self.key_node = dict(zip(self.node_key, kept, strict=True))
        self.post_nodes = {post_id: mapping[nodes] if type(nodes) is int else tuple(map(mapping.__getitem__, nodes))
                           for post_id, nodes in self.post_nodes.items()}
        self._media = {mapping[node] for node in self._media if live[node]}
        phash_nodes = self._phashes.kept(mapping)
        self._phashes = PHashTable()
        self.parent = kept
        self.members = {}
        self._words = minhash.WordHashes()  # words of expired posts too; a word is hashed again in ~1 µs
        live = list(reversed(posts.values()))  # live accounts only; the earliest live post's author last, so it stands
        self._authors = dict(zip(map(_AUTHOR_ID, live), map(_AUTHOR, live), strict=True))
        for nodes in self.post_nodes.values():
            if type(nodes) is tuple:
                self._join_post_nodes(nodes)
        pairs = self._bands.compact(renumber)
        for begin in range(0, len(pairs), COMPACT_PAIRS):  # a pair already joined by an earlier step is skipped
            step = pairs[begin:begin + COMPACT_PAIRS]
            ends = sorted_distinct(step.flatten())
            self._join_near_copies(step, ends, np.full(len(ends), None, dtype=object), np.zeros(len(ends), dtype=bool))
        self._link_phashes(phash_nodes)
        self.dirty = {up for node, up in enumerate(self.parent) if node == up}

    def potential_posts(self, root: int) -> int:
        """Live posts of a component counted per node (a post with text and image counts twice)."""
        dead = self.node_dead
        return sum(len(self.node_posts[node]) - dead.get(node, 0) for node in self.nodes_of(root))

    def alive(self, nodes: np.ndarray | None = None) -> np.ndarray:
        """Whether each of `nodes` (default: every node, as an array indexed by node) has a live post."""
        flags = np.frombuffer(self._flags, dtype=np.uint8)
        return (flags if nodes is None else flags[nodes]) & LIVE != 0

    def component_posts(self, root: int) -> list[Post]:
        """The live posts of a component, each once."""
        posts = self.posts
        found: dict[str, Post] = {}
        for node in self.nodes_of(root):
            for post in self.node_posts[node]:
                if posts.get(post.id) is post:
                    found[post.id] = post
        return list(found.values())

    def specific(self, root: int) -> bool:
        """Whether a component is specific enough that sharing it is evidence of co-posting (see
        `nodes.specific_message`). Each fuzzy text node's text is read from its first post once; what
        it says is kept with the node (a poll re-asks this of every component it touched)."""
        nodes = self.nodes_of(root)
        media = self._media
        if any(node in media for node in nodes):
            return True
        flags, templates, held = self._flags, self._templates, self.node_posts
        facts = []
        for node in nodes:
            if node < 0 or not flags[node] & FUZZY or not held[node]:
                continue
            if not flags[node] & FACTS:
                text = self.text_of(node) or ""
                flags[node] |= FACTS | (CONTENT if has_content(text) else 0)
                templates[node] = template_key(text)
            facts.append((flags[node] & CONTENT != 0, templates[node]))
        return specific_texts(facts)
