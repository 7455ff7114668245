"""Content nodes: the keys of what a post carries, which posts sharing one are joined by.

A post hangs off its text's node (the folded text without spaces) or, for a short text with
links, a node of the text and its canonical links together; and off each image's file hash
(`m:`) and perceptual hash (`p:`). The window's index and the Spark engine both key posts here.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.links import canonical_url
from detectors.media import parse_phash
from domain.models import Post

MIN_FUZZY_CHARS = 20
"""Shorter texts ('good morning!!') group only when exactly equal: fuzzy matches chain them."""


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A content node a post hangs off: its key and whether it stands for text (else an image)."""

    key: str
    is_text: bool


def post_node_keys(post: Post, text_key: str, fuzzy: bool) -> list[NodeRef]:
    """The nodes of a post whose folded text has the key `text_key` ("" for none), its text's first.

    A text too short to be matched fuzzily is keyed together with the post's links, so "look at
    this" under two different links are two messages; a longer text stands for itself.
    """
    refs = []
    if post.urls and not fuzzy:
        refs.append(NodeRef(text_key + "|" + "|".join(sorted(canonical_url(url) for url in post.urls)), True))
    elif text_key:
        refs.append(NodeRef(text_key, True))
    for item in post.media:
        if item.sha256:
            refs.append(NodeRef("m:" + item.sha256.lower(), False))
        value = parse_phash(item.phash)
        if value is not None:
            refs.append(NodeRef(f"p:{value:016x}", False))
    return list(dict.fromkeys(refs))
