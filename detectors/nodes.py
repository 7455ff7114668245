"""Content nodes: the keys of what a post carries, which posts sharing one are joined by.

A post hangs off its text's node (the folded text without spaces) or, for a short text with
links, a node of the text and its canonical links together; and off each image's file hash
(`m:`) and perceptual hash (`p:`). The window's index and the Spark engine both key posts here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from detectors.links import canonical_url
from detectors.media import parse_phash
from detectors.minhash import STOPWORDS
from detectors.normalize import VOWEL_SIGN
from detectors.templates import is_template_keys, template_key
from domain.models import Post

MIN_FUZZY_CHARS = 20
"""Shorter texts ('good morning!!') group only when exactly equal: fuzzy matches chain them."""
MIN_SPECIFIC_WORDS = 4
"""Content words (not stopwords) a text needs to be a specific message rather than a stock phrase."""
SPACELESS_CHARS_PER_WORD = 3
"""Scripts written without spaces between words (Chinese, Japanese, Thai, Khmer, Burmese) count a content word
for each this many letters in a row: to `str.split` a whole Chinese sentence is one word."""
_SPACELESS_WORD = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
    f"{{{SPACELESS_CHARS_PER_WORD}}}")


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


def has_content(text: str) -> bool:
    """Whether a (folded) text has MIN_SPECIFIC_WORDS content words: a message rather than a stock phrase."""
    return sum(map(_content_words, text.split())) >= MIN_SPECIFIC_WORDS


def _content_words(word: str) -> int:
    """How many content words one space-separated word is: none for a stopword, one for most, and one for each
    SPACELESS_CHARS_PER_WORD letters of a script written without spaces."""
    if word in STOPWORDS:
        return 0
    if word.isascii():
        return 1
    return max(1, len(_SPACELESS_WORD.findall(VOWEL_SIGN.sub("", word))))  # a Thai word's signs are no letters


def specific_texts(facts: Sequence[tuple[bool, int]]) -> bool:
    """`specific_message` for a group with no picture, from each text's (`has_content`, `templates.template_key`),
    as the window keeps them."""
    return not is_template_keys([key for _, key in facts]) and any(content for content, _ in facts)


def specific_message(texts: Collection[str], has_image: bool) -> bool:
    """Whether a message group is specific enough that sharing it is evidence of co-posting.

    An image is; so is a (folded) text of MIN_SPECIFIC_WORDS content words, unless the group's texts
    are an app's template (`templates`), which thousands of unrelated people's apps post.
    """
    return has_image or specific_texts([(has_content(text), template_key(text)) for text in texts])
