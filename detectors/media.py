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


def phash_distance(a: int, b: int) -> int:
    """Hamming distance between two pHashes."""
    return (a ^ b).bit_count()


def phash_bands(value: int) -> list[tuple[int, int]]:
    """(band, bits) pieces of a 64-bit pHash; near-same hashes share at least one."""
    width = -(-64 // PHASH_BANDS)
    mask = (1 << width) - 1
    return [(band, (value >> (band * width)) & mask) for band in range(PHASH_BANDS)]
