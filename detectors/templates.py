"""Templates: texts that differ only in their numbers, as apps and auto-posters write them.

"just joined a video chat with 48 other people", "I got 100 followers using ...": thousands of
unrelated people's apps post such texts, often several times a day. Sharing one says nothing about
who coordinates with whom, and repeating one is how the app works, not a campaign's behaviour.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection

TEMPLATE_VARIANTS = 4
"""A group of this many text variants or more, at least half of them alike once digits are dropped, is a template."""
_NO_DIGITS = str.maketrans("", "", "0123456789")


def template_key(text: str) -> int:
    """What a text's variants share once digits are dropped, as a 32-bit hash (a node keeps one for each text)."""
    return zlib.crc32(text.translate(_NO_DIGITS).encode())


def is_template_keys(keys: Collection[int]) -> bool:
    """Whether the `template_key`s of distinct texts say they are variants of one template."""
    return len(keys) >= TEMPLATE_VARIANTS and len(set(keys)) * 2 <= len(keys)


def is_template(texts: Collection[str]) -> bool:
    """Whether distinct (normalised) texts are variants of one template that differ only in numbers."""
    return is_template_keys([template_key(text) for text in texts])
