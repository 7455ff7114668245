"""Content hashes for images the platform does not hash itself: sha256 and a perceptual hash.

Each image is downloaded once (size-capped, content-type checked) and the hashes cached by URL,
so a campaign's copied picture is matched even when the platform re-encodes or renames it.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections import OrderedDict

import httpx
import numpy as np
from PIL import Image, UnidentifiedImageError

from platforms.http import HttpSettings

log = logging.getLogger(__name__)

_SIDE = 32
_KEEP = 8
_DCT = np.cos(np.pi * np.outer(np.arange(_SIDE), 2 * np.arange(_SIDE) + 1) / (2 * _SIDE))


def perceptual_hash(image: Image.Image) -> str:
    """A 64-bit DCT hash (pHash) as 16 hex digits: near-identical pictures differ in few bits."""
    gray = np.asarray(image.convert("L").resize((_SIDE, _SIDE), Image.Resampling.LANCZOS), dtype=np.float64)
    low = (_DCT @ gray @ _DCT.T)[:_KEEP, :_KEEP].flatten()
    bits = low > np.median(low[1:])
    return f"{int(''.join('1' if bit else '0' for bit in bits), 2):016x}"


class MediaHasher:
    """Downloads and hashes images by URL, remembering the answer (also a failure) for each URL."""

    def __init__(self, settings: HttpSettings, cache_size: int = 10_000) -> None:
        self.max_bytes = settings.max_image_bytes
        self._http = httpx.Client(timeout=settings.timeout_seconds, follow_redirects=True)
        self._cache: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()
        self._cache_size = cache_size

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def hashes(self, url: str) -> tuple[str | None, str | None]:
        """(sha256, phash) of the image at `url`, or Nones when it is not a readable image within the cap."""
        if url in self._cache:
            self._cache.move_to_end(url)
            return self._cache[url]
        result = self._download_and_hash(url)
        self._cache[url] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def _download_and_hash(self, url: str) -> tuple[str | None, str | None]:
        try:
            with self._http.stream("GET", url) as response:
                kind = response.headers.get("content-type", "")
                if response.status_code != 200 or not kind.startswith("image/"):
                    log.info("media %s not hashed: status %s, content type %r", url, response.status_code, kind)
                    return None, None
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    log.info("media %s not hashed: %s bytes is over the %d cap", url, declared, self.max_bytes)
                    return None, None
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        log.info("media %s not hashed: over the %d byte cap", url, self.max_bytes)
                        return None, None
        except httpx.HTTPError as error:
            log.info("media %s not hashed: %s", url, error)
            return None, None
        sha256 = hashlib.sha256(body).hexdigest()
        try:
            with Image.open(io.BytesIO(body)) as image:
                return sha256, perceptual_hash(image)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            return sha256, None
