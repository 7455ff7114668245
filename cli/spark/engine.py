"""The Spark engine's run: read, content pairs, components, time chains, links, candidates judged, one cluster each.

The same stages as the window's engine (`detectors.engine`), each distributed; the last, giving
each account at most one cluster (`detectors.judge.choose`), runs on the driver over the candidate
clusters, the only step that must see them all.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from cli.scan import ScanResult
from cli.spark.components import connected_components
from cli.spark.content import phash_edges, picture_edges, post_nodes, text_edges
from cli.spark.groups import (
    chains,
    cluster_row,
    coposting_facts,
    coposting_links,
    creation_traits,
    judged,
    pool_ties,
    row_cluster,
    specific_components,
)
from cli.spark.read import input_bytes, read_posts
from cli.spark.rows import POST_NAMES, row_post
from cli.spark.session import spark_session
from detectors.bridges import linked_sets
from detectors.cohort import Population
from detectors.judge import choose, judge
from detectors.kinship import kin_links
from detectors.nodes import NodeRef
from detectors.pools import pooled_sets
from detectors.settings import DetectionSettings
from domain.models import Cluster, Post

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ALONE, LINKED = "g:", "m:"
"""Prefixes of candidate names: a group judged alone (then its group's name), a set of linked groups (its first's)."""

log = logging.getLogger("chorus.spark")


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Log how long a stage took: a backfill's progress, and where its time goes."""
    started = time.perf_counter()
    yield
    log.info("spark: %s in %.1f s", name, time.perf_counter() - started)


def spark_scan(location: str | Path, settings: DetectionSettings, master: str | None = None,
               since: datetime | None = None, until: datetime | None = None, output: Path | None = None) -> ScanResult:
    """Detect clusters in a file or folder of posts (JSONL, JSONL.gz, Parquet; a URL for Parquet) with Spark;
    the report of `scan`."""
    from pyspark.sql import functions as F

    started = time.perf_counter()
    spark = spark_session(master, input_bytes(str(location)))
    try:
        with _stage("read"):
            read = read_posts(spark, str(location), since, until)
            posts = read.posts
            counts = posts.agg(F.count("post_id").alias("posts"),
                               F.countDistinct("author_id").alias("accounts")).first()
            total, population = counts["posts"], counts["accounts"]
        clusters = _detect(spark, posts, settings, population, _creation(posts)) if total else []
        if output is not None:
            _write(spark, clusters, output)
        return ScanResult(clusters, total, population, read.skipped, time.perf_counter() - started,
                          skipped_total=read.skipped_total)
    finally:
        spark.catalog.clearCache()


def _creation(posts: DataFrame) -> Population:
    """The creation times of the accounts that report one, against which a group's are judged (`detectors.cohort`)."""
    from pyspark.sql import functions as F

    with _stage("account creation times"):
        created = (posts.groupBy("author_id").agg(F.first("author_created_us", ignorenulls=True).alias("created"))
                   .filter(F.col("created").isNotNull()).select((F.col("created") / 1e6).alias("seconds")))
        return Population(created.toPandas()["seconds"].to_numpy())


def _detect(spark: SparkSession, posts: DataFrame, settings: DetectionSettings, population: int,
            creation: Population) -> list[Cluster]:
    from pyspark.sql import functions as F

    nodes = post_nodes(posts).persist()
    exploded = nodes.select("post_id", F.posexplode(F.arrays_zip("node_keys", "node_text")).alias("at", "node"))
    exploded = exploded.select("post_id", F.col("node.node_keys").alias("key"),
                               F.col("node.node_text").alias("is_text"))
    edges = text_edges(nodes).unionByName(phash_edges(nodes)).unionByName(picture_edges(nodes))
    with _stage("content pairs and components"):
        labelled = connected_components(edges.select(F.xxhash64("a").alias("a"), F.xxhash64("b").alias("b")))
    exploded = (exploded.withColumn("node", F.xxhash64("key")).join(labelled, "node", "left")
                .withColumn("component", F.coalesce("component", "node")).persist())
    members = exploded.select("post_id", "component").distinct()
    grouped = chains(members, posts, settings.window_seconds).persist()
    member_posts = grouped.join(posts, "post_id")
    groups = (member_posts.withColumn("component", F.split("group", ":")[0].cast("long"))
              .groupBy("group").agg(F.collect_set("author_id").alias("accounts"), F.min("created_us").alias("first_us"),
                                    F.max("created_us").alias("last_us"), F.first("component").alias("component"))
              .withColumn("size", F.size("accounts"))
        .join(specific_components(nodes, exploded, grouped.select(
            F.split("group", ":")[0].cast("long").alias("component")).distinct()), "component", "left")
        .fillna({"specific": False}).persist())
    with _stage("time chains and co-posting"):
        links = [(row.a, row.b) for row in coposting_links(groups, population, settings.window_seconds).collect()]
    with _stage("kinship"):
        links.extend(kin_links(creation_traits(member_posts, settings), creation))
    with _stage("pools"):
        mapping = _candidates(groups, _pooled(groups, linked_sets(links), population, settings), settings)
    if not mapping:
        return []
    candidate_of = spark.createDataFrame(mapping, "group string, candidate string, messages int")
    candidate_posts = (grouped.join(candidate_of, "group").join(posts, "post_id")
                       .join(nodes.select("post_id", "node_keys", "node_text"), "post_id")
                       .select(*POST_NAMES, "node_keys", "node_text", "candidate", "messages"))
    with _stage("judging candidates"):
        shared = spark.sparkContext.broadcast(creation)
        found = {row.candidate: row_cluster(row) for row in judged(candidate_posts, settings, shared)
                 .filter(F.col("score") >= settings.min_score).collect()}
    with _stage("one cluster per account"):
        fetch = _PostFetcher(spark, posts, nodes)
        fetch.prefetch(_sharing_posts(list(found.values())))
        merged, alone = _linked_and_alone(found, mapping)
        return choose(merged, alone, lambda candidate, free: _trimmed(candidate, free, fetch, settings, creation),
                      settings)


def _pooled(groups: DataFrame, sets: list[list[str]], population: int,
            settings: DetectionSettings) -> list[list[str]]:
    """The linked sets with those pool ties join (`detectors.pools`), from the ties and facts of the groups."""
    sizes: dict[str, int] = {}
    spans: dict[str, tuple[float, float]] = {}
    ties: dict[tuple[str, str], int] = {}
    for row in pool_ties(groups).collect():
        ties[row.a, row.b] = row.ties
        sizes[row.a], sizes[row.b] = row.size_a, row.size_b
        spans[row.a], spans[row.b] = (row.first_a, row.last_a), (row.first_b, row.last_b)
    members = [group for linked in sets for group in linked if group not in spans]
    if ties and members:  # a set's span is that of all its groups co-posting judges, as in the window
        for row in coposting_facts(groups, members).collect():
            sizes[row.group], spans[row.group] = row.size, (row.first, row.last)
    return pooled_sets(sets, ties, lambda group: sizes.get(group, 0), spans, population, settings.window_seconds)


def _candidates(groups: DataFrame, sets: list[list[str]], settings: DetectionSettings) -> list[tuple[str, str, int]]:
    """(group, candidate, messages): every group of min_accounts alone, and every set of linked groups as one."""
    mapping = [(row.group, ALONE + row.group, 1) for row in
               groups.filter(groups["size"] >= settings.min_accounts).select("group").collect()]
    for members in sets:
        name = LINKED + members[0]
        mapping.extend((group, name, len(members)) for group in members)
    return mapping


def _linked_and_alone(found: dict[str, Cluster], mapping: list[tuple[str, str, int]]
                      ) -> tuple[list[tuple[Cluster, list[Cluster]]], list[Cluster]]:
    """The judged candidates as `choose` takes them: each set of linked groups with those of its groups found
    alone, then the groups found alone."""
    groups_of: dict[str, list[str]] = {}
    for group, candidate, _ in mapping:
        groups_of.setdefault(candidate, []).append(group)
    merged = [(cluster, [found[ALONE + group] for group in groups_of[name] if ALONE + group in found])
              for name, cluster in found.items() if name.startswith(LINKED)]
    return merged, [cluster for name, cluster in found.items() if name.startswith(ALONE)]


def _sharing_posts(found: list[Cluster]) -> list[str]:
    """The posts of the candidates that share an account with another: the only ones `choose` may trim."""
    holders = Counter(account for cluster in found for account in cluster.accounts)
    return [post_id for cluster in found if any(holders[account] > 1 for account in cluster.accounts)
            for post_id in cluster.posts]


class _PostFetcher:
    """Posts and their nodes brought to the driver by id, for the candidates `choose` trims."""

    def __init__(self, spark: SparkSession, posts: DataFrame, nodes: DataFrame) -> None:
        self._spark = spark
        self._table = posts.join(nodes.select("post_id", "node_keys", "node_text"), "post_id")
        self._known: dict[str, tuple[Post, list[NodeRef]]] = {}

    def prefetch(self, post_ids: list[str]) -> None:
        """Bring these posts to the driver in one job (a scan of the table per trimmed candidate took an hour
        at 10M posts)."""
        from pyspark.sql import functions as F

        wanted = sorted(set(post_ids).difference(self._known))
        if wanted:
            ids = self._spark.createDataFrame([(post_id,) for post_id in wanted], "post_id string")
            for row in self._table.join(F.broadcast(ids), "post_id").collect():
                refs = [NodeRef(key, kind) for key, kind in zip(row.node_keys, row.node_text, strict=True)]
                self._known[row.post_id] = (row_post(row), refs)

    def __call__(self, post_ids: list[str]) -> dict[str, tuple[Post, list[NodeRef]]]:
        """The posts (with their nodes) of these ids, fetched if not yet on the driver."""
        self.prefetch(post_ids)
        return {post_id: self._known[post_id] for post_id in post_ids if post_id in self._known}


def _trimmed(candidate: Cluster, free: frozenset[str], fetch: _PostFetcher,
             settings: DetectionSettings, creation: Population) -> Cluster | None:
    """The candidate judged again on the posts of its `free` accounts (as the window's engine does)."""
    held = fetch(candidate.posts)
    kept = [held[post_id][0] for post_id in candidate.posts if post_id in held and held[post_id][0].author.id in free]
    trimmed = judge(kept, lambda post: held[post.id][1], settings, int(candidate.signals["messages"]), creation)
    return trimmed if trimmed is not None and trimmed.score >= settings.min_score else None


def _write(spark: SparkSession, clusters: list[Cluster], output: Path) -> None:
    """The clusters as Parquet (`clusters.parquet`) and JSON lines (`clusters.jsonl`) in `output`."""
    from cli.spark.groups import CLUSTER_SCHEMA

    output.mkdir(parents=True, exist_ok=True)
    rows = [tuple(cluster_row(cluster.id, cluster).values()) for cluster in clusters]
    spark.createDataFrame(rows, CLUSTER_SCHEMA).withColumnRenamed("candidate", "id").write.mode("overwrite").parquet(
        str(output / "clusters.parquet"))
    with (output / "clusters.jsonl").open("wb") as stream:
        for cluster in clusters:
            stream.write(orjson.dumps({"id": cluster.id, "score": cluster.score, "accounts": cluster.accounts,
                                       "posts": cluster.posts, "reasons": cluster.reasons,
                                       "sample_text": cluster.sample_text}) + b"\n")
