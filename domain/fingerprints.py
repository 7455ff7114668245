"""Fingerprints of suspended campaigns: the image hashes and text signatures a new post is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class FingerprintKind(StrEnum):
    """What a fingerprint holds: an image's file hash, its perceptual hash, or a text's signature."""

    IMAGE_SHA256 = "image_sha256"
    IMAGE_PHASH = "image_phash"
    TEXT = "text"

    @property
    def is_image(self) -> bool:
        """Whether it stands for a picture (cards say "posted a known campaign image")."""
        return self is not FingerprintKind.TEXT


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One remembered piece of a suspended campaign, the cluster it came from, and until when it counts."""

    id: int
    kind: FingerprintKind
    value: str
    cluster_id: str
    created_at: datetime
    expires_at: datetime
    matches: int = 0
