"""Image matching: the same file (sha256) or a near-same picture (perceptual hash within a few bits)."""

from __future__ import annotations

MAX_PHASH_DISTANCE = 4
"""Bits two 64-bit pHashes may differ by and still be one picture (re-encoded, resized, watermarked)."""
PHASH_BANDS = 5
"""Split into MAX_PHASH_DISTANCE + 1 bands, two hashes within the distance share a band (pigeonhole)."""


def parse_phash(value: str | None) -> int | None:
    """A hex pHash as an integer, or None when absent or not hex."""
    if not value:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None
