"""Groups on the executors: time chains of components, co-posting and kinship links, and judging candidates.

Each step calls the detectors' own functions on the executors (`time_chains`' rule, `linked`,
`specific_message`, `account_signals`, `judge`); only the small results (links, kinship traits,
candidate clusters) come back to the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from itertools import groupby
from typing import TYPE_CHECKING, Any

from cli.spark.rows import micros, moment, row_post
from detectors.cohort import Population
from detectors.coposting import MAX_GROUP_ACCOUNTS, MAX_GROUPS_PER_ACCOUNT, MIN_SHARED, linked
from detectors.judge import judge, judge_group
from detectors.kinship import Traits, traits
from detectors.nodes import NodeRef, specific_message
from detectors.settings import DetectionSettings
from domain.models import Cluster, Post

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame

CLUSTER_COLUMNS = (
    ("candidate", "string"), ("key", "string"), ("score", "double"), ("accounts", "array<string>"),
    ("posts", "array<string>"), ("reasons", "array<string>"), ("sample_text", "string"), ("first_us", "long"),
    ("last_us", "long"), ("distinct_texts", "int"), ("media", "array<string>"), ("signals", "map<string,double>"),
)
CLUSTER_SCHEMA = ", ".join(f"{name} {kind}" for name, kind in CLUSTER_COLUMNS)


def chains(members: DataFrame, posts: DataFrame, window_seconds: float) -> DataFrame:
    """(post_id, group) for every time chain of two or more accounts of every component (`detectors.chains`'s
    rule in Spark SQL: a new chain wherever the gap to the component's previous post exceeds the window)."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    rows = members.join(posts.select("post_id", "created_us", "author_id"), "post_id")
    ordered = Window.partitionBy("component").orderBy("created_us", "post_id")
    gap = (F.col("created_us") - F.lag("created_us").over(ordered)) > int(window_seconds * 1_000_000)
    chained = rows.withColumn("chain", F.sum(F.when(gap, 1).otherwise(0)).over(
        ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)))
    chained = chained.withColumn("group", F.concat_ws(":", F.col("component").cast("string"),
                                                       F.col("chain").cast("string")))
    shared = chained.groupBy("group").agg(F.countDistinct("author_id").alias("accounts")).filter(
        F.col("accounts") >= MIN_SHARED)
    return chained.join(shared.select("group"), "group", "left_semi").select("post_id", "group")


def _by_key(rows: Iterator[Any], key: str) -> Iterator[tuple[Any, list[Any]]]:
    """Consecutive rows with the same `key` value (the partition is sorted by it), a group at a time."""
    return ((value, list(group)) for value, group in groupby(rows, key=lambda row: row[key]))


def specific_components(nodes: DataFrame, exploded: DataFrame, wanted: DataFrame) -> DataFrame:
    """(component, specific) of the `wanted` components by `nodes.specific_message`: a picture, or a text of
    content words, not a template."""
    from pyspark.sql import functions as F

    first_texts = (nodes.filter("fuzzy").groupBy("text_key").agg(F.min_by("normalized", "order").alias("text"))
                   .withColumnRenamed("text_key", "key"))
    keyed = (exploded.join(wanted, "component", "left_semi").select("component", "key", "is_text").distinct()
             .join(first_texts, "key", "left"))
    per = keyed.groupBy("component").agg(F.max(~F.col("is_text")).alias("has_image"),
                                          F.collect_list("text").alias("texts"))
    decide = F.udf(lambda texts, image: specific_message(list(texts or ()), bool(image)), "boolean")
    return per.select("component", decide("texts", "has_image").alias("specific"))


def _linked_rows(rows: Iterator[Any], population: int, window_seconds: float) -> Iterator[tuple[str, str]]:
    for row in rows:
        if linked(row.shared, (row.size_a, row.size_b), ((row.first_a, row.last_a), (row.first_b, row.last_b)),
                  population, window_seconds):
            yield row.a, row.b


def coposting_links(groups: DataFrame, population: int, window_seconds: float) -> DataFrame:
    """(a, b) pairs of specific groups linked by co-posting (`coposting.linked`)."""
    from pyspark.sql import functions as F

    held = _coposting_groups(groups).select("group", F.explode("accounts").alias("account"))
    busy = held.groupBy("account").count().filter(F.col("count") > MAX_GROUPS_PER_ACCOUNT)
    held = held.join(busy, "account", "left_anti")
    left, right = held.alias("l"), held.alias("r")
    shared = (left.join(right, (F.col("l.account") == F.col("r.account")) & (F.col("l.group") < F.col("r.group")))
              .groupBy(F.col("l.group").alias("a"), F.col("r.group").alias("b")).count()
              .withColumnRenamed("count", "shared").filter(F.col("shared") >= MIN_SHARED))
    facts = _facts(groups)
    a_facts = facts.toDF("a", "size_a", "first_a", "last_a")
    b_facts = facts.toDF("b", "size_b", "first_b", "last_b")
    pairs = shared.join(a_facts, "a").join(b_facts, "b")
    return pairs.rdd.mapPartitions(lambda rows: _linked_rows(rows, population, window_seconds)).toDF(
        "a string, b string")


def pool_ties(groups: DataFrame) -> DataFrame:
    """(a, b, ties, size_a, first_a, last_a, size_b, first_b, last_b): for each pair of co-posting's groups, the
    accounts that posted in exactly those two (`detectors.pools`), with each group's accounts and posting span."""
    from pyspark.sql import functions as F

    eligible = _coposting_groups(groups)
    held = eligible.select("group", F.explode("accounts").alias("account"))
    pairs = (held.groupBy("account").agg(F.sort_array(F.collect_list("group")).alias("groups"))
             .filter(F.size("groups") == 2)
             .groupBy(F.col("groups")[0].alias("a"), F.col("groups")[1].alias("b")).count()
             .withColumnRenamed("count", "ties"))
    facts = _facts(eligible)
    return (pairs.join(facts.toDF("a", "size_a", "first_a", "last_a"), "a")
            .join(facts.toDF("b", "size_b", "first_b", "last_b"), "b"))


def coposting_facts(groups: DataFrame, wanted: list[str]) -> DataFrame:
    """(group, size, first, last) of the `wanted` groups co-posting judges: accounts and posting span (seconds)."""
    from pyspark.sql import functions as F

    return _facts(_coposting_groups(groups).filter(F.col("group").isin(wanted)))


def _facts(groups: DataFrame) -> DataFrame:
    """(group, size, first, last): each group's accounts and posting span in epoch seconds."""
    from pyspark.sql import functions as F

    return groups.select("group", "size", (F.col("first_us") / 1e6).alias("first"),
                         (F.col("last_us") / 1e6).alias("last"))


def _coposting_groups(groups: DataFrame) -> DataFrame:
    """The groups co-posting judges (`CoPosting.update`): specific messages of MIN_SHARED to MAX_GROUP_ACCOUNTS."""
    from pyspark.sql import functions as F

    return groups.filter(F.col("specific") & F.col("size").between(MIN_SHARED, MAX_GROUP_ACCOUNTS))


def creation_traits(member_posts: DataFrame, settings: DetectionSettings) -> dict[str, Traits]:
    """Kinship traits (`detectors.kinship.traits`) of the groups of min_accounts whose accounts were created in
    one tight batch.

    Each partition holds whole groups and is walked once: no per-group call, so millions of small groups
    cost what their posts cost.
    """
    def traits_rows(rows: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
        for group, members in _by_key(rows, "group"):
            posts = [row_post(row) for row in members]
            if len({post.author.id for post in posts}) < settings.min_accounts:
                continue
            found = traits(posts)
            if found is not None:
                yield (group, *found.posted, *found.created, sorted(found.accounts))

    rows = _sorted_by(member_posts, "group").rdd.mapPartitions(traits_rows).collect()
    return {group: Traits((posted_from, posted_until), frozenset(accounts), (created_from, created_until))
            for group, posted_from, posted_until, created_from, created_until, accounts in rows}


def judged(candidate_posts: DataFrame, settings: DetectionSettings, creation: Broadcast[Population]) -> DataFrame:
    """Each candidate's posts judged as the window would (`judge_group` for one message group, else `judge`),
    one cluster row each; `creation` is the accounts' creation times, sent to each worker once."""
    def judge_candidates(rows: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
        population = creation.value
        for candidate, members in _by_key(rows, "candidate"):
            refs = {row.post_id: [NodeRef(key, bool(kind)) for key, kind in zip(row.node_keys, row.node_text,
                                                                                 strict=True)]
                    for row in members}
            posts, messages = [row_post(row) for row in members], int(members[0].messages)
            nodes_of = partial(_refs_of, refs)
            cluster = (judge_group(posts, nodes_of, settings, population) if messages == 1
                       else judge(posts, nodes_of, settings, messages, population))
            if cluster is not None:
                yield tuple(cluster_row(candidate, cluster).values())

    return _sorted_by(candidate_posts, "candidate").rdd.mapPartitions(judge_candidates).toDF(CLUSTER_SCHEMA)


def _refs_of(refs: dict[str, list[NodeRef]], post: Post) -> list[NodeRef]:
    """A post's content nodes, from its candidate's rows."""
    return refs[post.id]


def _sorted_by(frame: DataFrame, key: str) -> DataFrame:
    """Rows with the same `key` in one partition, in `key` order."""
    return frame.repartition(key).sortWithinPartitions(key)


def cluster_row(candidate: str, cluster: Cluster) -> dict[str, Any]:
    """A cluster as a row of CLUSTER_SCHEMA."""
    return {"candidate": candidate, "key": cluster.key, "score": cluster.score, "accounts": cluster.accounts,
            "posts": cluster.posts, "reasons": cluster.reasons, "sample_text": cluster.sample_text,
            "first_us": micros(cluster.first_seen), "last_us": micros(cluster.last_seen),
            "distinct_texts": cluster.distinct_texts, "media": cluster.media, "signals": cluster.signals}


def row_cluster(row: Any) -> Cluster:
    """The cluster of a CLUSTER_SCHEMA row."""
    return Cluster(key=row.key, score=row.score, accounts=list(row.accounts), posts=list(row.posts),
                   reasons=list(row.reasons), sample_text=row.sample_text, first_seen=moment(row.first_us),
                   last_seen=moment(row.last_us), distinct_texts=row.distinct_texts, media=list(row.media),
                   signals=dict(row.signals))
