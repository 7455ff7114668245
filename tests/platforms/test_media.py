"""Image hashing: each URL downloaded once, size and content type checked, near-copies close in pHash."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from platforms.http import HttpSettings
from platforms.media import MediaHasher
from tests.platform_server import Reply


def picture(variant: int = 0) -> Image.Image:
    image = Image.new("RGB", (120, 120), "white")
    draw = ImageDraw.Draw(image)
    if variant:
        draw.ellipse((10, 10, 110, 110), fill="blue")
    else:
        draw.rectangle((10, 20, 70, 90), fill="black")
        draw.ellipse((60, 10, 110, 60), fill="red")
    return image


def encoded(image: Image.Image, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def png(size: int = 120) -> bytes:
    return encoded(picture().resize((size, size)))


def distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_images_are_downloaded_once_and_near_copies_hash_close(server):
    server.route("GET", "/a.png", Reply(200, raw=png(), headers={"content-type": "image/png"}))
    recompressed = encoded(picture().resize((240, 240)), "JPEG")
    server.route("GET", "/b.jpg", Reply(200, raw=recompressed, headers={"content-type": "image/jpeg"}))
    server.route("GET", "/c.png", Reply(200, raw=encoded(picture(1)), headers={"content-type": "image/png"}))
    hasher = MediaHasher(HttpSettings())
    sha_a, phash_a = hasher.hashes(f"{server.url}/a.png")
    assert hasher.hashes(f"{server.url}/a.png") == (sha_a, phash_a)
    assert len(server.sent("GET", "/a.png")) == 1
    sha_b, phash_b = hasher.hashes(f"{server.url}/b.jpg")
    assert sha_a != sha_b and len(phash_a) == 16 and distance(phash_a, phash_b) <= 6
    _, phash_c = hasher.hashes(f"{server.url}/c.png")
    assert distance(phash_a, phash_c) > 16


def test_oversized_and_non_image_downloads_are_not_hashed(server):
    server.route("GET", "/big.png", Reply(200, raw=png(size=400), headers={"content-type": "image/png"}))
    server.route("GET", "/page", Reply(200, raw=b"<html></html>", headers={"content-type": "text/html"}))
    hasher = MediaHasher(HttpSettings(max_image_bytes=500))
    assert hasher.hashes(f"{server.url}/big.png") == (None, None)
    assert hasher.hashes(f"{server.url}/page") == (None, None)
