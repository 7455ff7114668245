"""Content on the executors: each post's nodes, near-copy pairs from band keys, close pictures, and the edges.

The same functions as the window's index (`detectors.nodes`, `detectors.normalize`,
`detectors.minhash`, `detectors.similarity`) run per partition. Pairs are formed as the index forms
them: each text is paired with the first text (in reading order) holding one of its band keys,
and each pair is verified with the same rapidfuzz rules; pictures within MAX_PHASH_DISTANCE bits
are found by a shuffle on PHASH_BANDS bands of their bits (two that close agree on one band).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from cli.spark.rows import row_post
from detectors.media import MAX_PHASH_DISTANCE, PHASH_BANDS
from detectors.minhash import WordHashes, chunked_band_keys
from detectors.nodes import MIN_FUZZY_CHARS, post_node_keys
from detectors.normalize import normalize_text, squash
from detectors.similarity import near_copies

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

NODES_SCHEMA = ("post_id string, order long, node_keys array<string>, node_text array<boolean>, text_key string, "
                "normalized string, fuzzy boolean")
BAND_BITS_DROPPED = 24
"""The window's band table keeps the 40 high bits of a band key (`detectors.bands`); so does this."""
CHUNK = 4096
"""Texts band-keyed or verified per step on an executor."""


def _node_rows(rows: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        post = row_post(row)
        normalized = normalize_text(post.text)
        key = squash(normalized)
        fuzzy = len(normalized) >= MIN_FUZZY_CHARS
        refs = post_node_keys(post, key, fuzzy)
        yield (post.id, row.order, [ref.key for ref in refs], [ref.is_text for ref in refs], key,
               normalized if fuzzy else None, fuzzy)


def post_nodes(posts: DataFrame) -> DataFrame:
    """Each post's content node keys (text first) and kinds, and its folded text."""
    return posts.rdd.mapPartitions(_node_rows).toDF(NODES_SCHEMA)


def _band_rows(rows: Iterator[Any]) -> Iterator[tuple[str, int, int, int]]:
    words = WordHashes()
    batch = list(rows)
    for start in range(0, len(batch), CHUNK):
        chunk = batch[start:start + CHUNK]
        keys = chunked_band_keys([row.text for row in chunk], words)
        kept = ((keys >> np.uint64(BAND_BITS_DROPPED)).astype(np.int64)).tolist()
        for row, bands in zip(chunk, kept, strict=True):
            for band, key in enumerate(bands):
                yield row.text_key, row.first, band, key


def _verified(rows: Iterator[Any]) -> Iterator[tuple[str, str]]:
    batch = list(rows)
    for start in range(0, len(batch), CHUNK):
        chunk = batch[start:start + CHUNK]
        ok = near_copies([row.text_a for row in chunk], [row.text_b for row in chunk])
        yield from ((row.a, row.b) for row, good in zip(chunk, ok.tolist(), strict=True) if good)


def text_edges(nodes: DataFrame) -> DataFrame:
    """Verified near-copy pairs (a, b) of fuzzy text node keys."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    # the index numbers texts by first appearance and verifies with the folded text first seen last
    variants = nodes.filter("fuzzy").groupBy("text_key", "normalized").agg(F.min("order").alias("seen"))
    texts = variants.groupBy("text_key").agg(F.min("seen").alias("first"), F.max_by("normalized", "seen").alias("text"))
    banded = texts.rdd.mapPartitions(_band_rows).toDF("text_key string, first long, band int, key long")
    holder = Window.partitionBy("band", "key").orderBy("first", "text_key")
    pairs = (banded.withColumn("head", F.first("text_key").over(holder))
             .filter(F.col("head") != F.col("text_key"))
             .select(F.col("text_key").alias("a"), F.col("head").alias("b")).distinct())
    with_texts = (pairs.join(texts.select(F.col("text_key").alias("a"), F.col("text").alias("text_a")), "a")
                  .join(texts.select(F.col("text_key").alias("b"), F.col("text").alias("text_b")), "b"))
    return with_texts.rdd.mapPartitions(_verified).toDF("a string, b string")


def _phash_rows(rows: Iterator[Any]) -> Iterator[tuple[str, int, int, int]]:
    width = -(-64 // PHASH_BANDS)
    mask = (1 << width) - 1
    for row in rows:
        value = int(row.key[2:], 16)
        signed = value - (1 << 64) if value >= 1 << 63 else value
        for band in range(PHASH_BANDS):
            yield row.key, signed, band, (value >> (band * width)) & mask


def phash_edges(nodes: DataFrame) -> DataFrame:
    """Pairs (a, b) of pHash node keys within MAX_PHASH_DISTANCE bits of each other."""
    from pyspark.sql import functions as F

    keys = nodes.select(F.explode("node_keys").alias("key")).filter(F.col("key").startswith("p:")).distinct()
    banded = keys.rdd.mapPartitions(_phash_rows).toDF("key string, value long, band int, part long")
    left, right = banded.alias("l"), banded.alias("r")
    close = (left.join(right, (F.col("l.band") == F.col("r.band")) & (F.col("l.part") == F.col("r.part"))
                       & (F.col("l.key") < F.col("r.key")))
             .filter(F.bit_count(F.col("l.value").bitwiseXOR(F.col("r.value"))) <= MAX_PHASH_DISTANCE))
    return close.select(F.col("l.key").alias("a"), F.col("r.key").alias("b")).distinct()


def picture_edges(nodes: DataFrame) -> DataFrame:
    """One post's pictures are one message: pairs (first picture's key, another's) of each post."""
    from pyspark.sql import functions as F

    pictures = nodes.select(F.filter(F.arrays_zip("node_keys", "node_text"), lambda item: ~item["node_text"])
                            .alias("pictures"))
    many = pictures.filter(F.size("pictures") > 1)
    return (many.select(F.col("pictures")[0]["node_keys"].alias("a"),
                        F.explode(F.slice("pictures", 2, 1 << 20)).alias("other"))
            .select("a", F.col("other")["node_keys"].alias("b")).distinct())
