"""Connected components in Spark SQL: min-label propagation with pointer jumping.

Each node starts labelled by its own id; each round, a node takes the smallest label among its own
and its neighbours', then the label of its label (pointer jumping), which halves the distance left
along a chain, so long chains of near-copies need a few rounds, not one per link. It stops when a
round changes no label. Lineage is cut every round (a local checkpoint), so plans stay small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

MAX_ROUNDS = 60
"""Pointer jumping needs about log2 of the longest chain; this bound is never reached in practice."""


def connected_components(edges: DataFrame) -> DataFrame:
    """(node, component) for every node of the undirected `edges` (a, b longs); component = smallest node id."""
    from pyspark.sql import functions as F

    links = edges.select(F.least("a", "b").alias("a"), F.greatest("a", "b").alias("b")).filter("a != b").distinct()
    both = links.unionByName(links.select(F.col("b").alias("a"), F.col("a").alias("b"))).localCheckpoint(eager=False)
    labels = both.groupBy("a").agg(F.least(F.min("b"), F.first("a")).alias("label")).withColumnRenamed("a", "node")
    labels = labels.localCheckpoint(eager=False)
    for _ in range(MAX_ROUNDS):
        seen = (both.join(labels.withColumnRenamed("node", "b").withColumnRenamed("label", "next"), "b")
                .groupBy("a").agg(F.min("next").alias("next")).withColumnRenamed("a", "node"))
        lowered = labels.join(seen, "node", "left").select(
            "node", F.least("label", F.coalesce("next", "label")).alias("label"))
        hop = lowered.withColumnRenamed("node", "target").withColumnRenamed("label", "jump")
        jumped = (lowered.join(hop, lowered["label"] == hop["target"], "left")
                  .select("node", F.least("label", F.coalesce("jump", "label")).alias("label"))
                  .localCheckpoint(eager=False))
        changed = jumped.join(labels.withColumnRenamed("label", "before"), "node").filter("label != before").count()
        labels = jumped
        if not changed:
            break
    return labels.withColumnRenamed("label", "component")
