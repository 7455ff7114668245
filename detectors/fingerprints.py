"""Known campaigns: the fingerprints a suspended cluster leaves (image hashes, text signatures), and which new
posts match them. Pure: the service layer feeds it from storage.

A text's signature is its normalised form (what detection compares), kept only for a specific message (enough
content words, not a stock phrase), so a suspended campaign's "good morning" never flags anyone. A new text
matches a signature when it is a near-copy by the same rule the clusters are built with; an image matches by
file hash, or by perceptual hash within MAX_PHASH_DISTANCE bits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from detectors.media import MAX_PHASH_DISTANCE, parse_phash
from detectors.nodes import MIN_FUZZY_CHARS, specific_message
from detectors.normalize import normalize_text
from detectors.similarity import required_ratio
from domain.fingerprints import Fingerprint, FingerprintKind
from domain.models import Post

MAX_TEXT_SIGNATURES = 50
"""Text signatures kept per campaign at most: its most posted messages (a pool of messages with light edits
gives one near-copy group each, so the first dozens cover it)."""


@dataclass(frozen=True, slots=True)
class FingerprintMatch:
    """A new post carrying a known campaign's image or text, and the fingerprint it matched."""

    post: Post
    fingerprint: Fingerprint


def campaign_fingerprints(posts: Sequence[Post]) -> list[tuple[FingerprintKind, str]]:
    """What a suspended cluster's posts leave to be recognised by: every image's sha256 and pHash, and the
    signatures of its specific texts, most posted first."""
    found: dict[tuple[FingerprintKind, str], None] = {}
    texts: Counter[str] = Counter()
    for post in posts:
        for item in post.media:
            if item.sha256:
                found[(FingerprintKind.IMAGE_SHA256, item.sha256.lower())] = None
            value = parse_phash(item.phash)
            if value is not None:
                found[(FingerprintKind.IMAGE_PHASH, f"{value:016x}")] = None
        signature = normalize_text(post.text)
        if len(signature) >= MIN_FUZZY_CHARS and specific_message([signature], has_image=False):
            texts[signature] += 1
    found.update(((FingerprintKind.TEXT, text), None) for text, _ in texts.most_common(MAX_TEXT_SIGNATURES))
    return list(found)


def match_fingerprints(posts: Sequence[Post], fingerprints: Sequence[Fingerprint]) -> list[FingerprintMatch]:
    """The posts that carry a fingerprint's image or text, each with the first fingerprint it matched (images
    before texts: a shared picture is the stronger sign)."""
    files = {f.value: f for f in fingerprints if f.kind is FingerprintKind.IMAGE_SHA256}
    phashes = [(int(f.value, 16), f) for f in fingerprints if f.kind is FingerprintKind.IMAGE_PHASH]
    signatures = [f for f in fingerprints if f.kind is FingerprintKind.TEXT]
    matches: dict[str, FingerprintMatch] = {}
    for post in posts:
        image = _image_match(post, files, phashes)
        if image is not None:
            matches[post.id] = FingerprintMatch(post, image)
    rest = [(post, normalize_text(post.text)) for post in posts if post.id not in matches]
    rest = [(post, text) for post, text in rest if len(text) >= MIN_FUZZY_CHARS]
    if rest and signatures:
        scores = cdist([text for _, text in rest], [f.value for f in signatures], scorer=fuzz.ratio, workers=-1)
        for row, (post, text) in enumerate(rest):
            for column, signature in enumerate(signatures):
                if scores[row, column] >= required_ratio(min(len(text), len(signature.value))):
                    matches[post.id] = FingerprintMatch(post, signature)
                    break
    return [matches[post.id] for post in posts if post.id in matches]


def _image_match(post: Post, files: dict[str, Fingerprint],
                 phashes: list[tuple[int, Fingerprint]]) -> Fingerprint | None:
    for item in post.media:
        if item.sha256 and item.sha256.lower() in files:
            return files[item.sha256.lower()]
        value = parse_phash(item.phash)
        if value is not None:
            for known, fingerprint in phashes:
                if (value ^ known).bit_count() <= MAX_PHASH_DISTANCE:
                    return fingerprint
    return None
