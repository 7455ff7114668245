"""`scan --engine spark`: the same detection as `scan`, distributed with Apache Spark, for backfills
past one machine (months of a platform's history, hundreds of millions of posts).

Every step runs the project's own functions on the executors (folding, MinHash band keys, the
rapidfuzz near-copy rules, time chains, co-posting's chance test, judging and reasons); Spark only
moves the data between them: shuffles on band and image keys form candidate pairs, an iterative
connected-components step joins them, and candidates are judged group by group. `docs/spark.md`
says how to run it on a cluster. The engine (`cli.spark.engine`) imports pyspark and pandas, which
only the `[spark]` extra installs, so nothing here imports it.
"""
