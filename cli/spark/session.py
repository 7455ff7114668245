"""The Spark session: found, or started on the master asked for, or a clear word on what is missing."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL = 'python -m pip install -e ".[spark]"'
"""The one command that adds Spark (pyspark, with pandas and pyarrow) to this install."""


class SparkUnavailable(RuntimeError):
    """`--engine spark` cannot run here; the message says what to install."""


INPUT_PER_PARTITION = 16 * 2**20
"""Bytes of input (as stored, compressed or not) per shuffle partition on a local master: a 10M-post backfill
(1.2 GB of .jsonl.gz) in local[2]'s default 1 GB heap ran out of memory with 4 partitions."""


def _local_heap_gb() -> int:
    """The JVM heap of a local master, which runs the executors' tasks too: a quarter of this machine's
    memory, 1-8 GB. Spark's 1 GB default ran out in a 10M-post backfill's aggregations on local[2]."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 1
    return max(1, min(8, memory // 4 // 2**30))


def spark_session(master: str | None, input_bytes: int = 0) -> SparkSession:
    """A session on `master` (default local[*], or what spark-submit set), UTC, no web UI.

    On a local master, shuffles are cut into partitions by `input_bytes` (at least two per core) and
    the JVM gets `_local_heap_gb` unless SPARK_DRIVER_MEMORY says otherwise; a cluster's own settings
    are left to spark-submit. Raises SparkUnavailable when pyspark or Java is
    missing, naming the fix.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(f"--engine spark needs Apache Spark for Python: {INSTALL}") from None
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise SparkUnavailable("--engine spark needs Java 17 or newer (a JDK on PATH, or JAVA_HOME set)")
    builder = SparkSession.builder.appName("chorus-scan")
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:  # spark-submit sets its own master
        builder = builder.master(master or "local[*]")
    if master is None or master.startswith("local"):  # a cluster's own settings are left to spark-submit
        partitions = max(2 * (os.cpu_count() or 2), -(-input_bytes // INPUT_PER_PARTITION))
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
        if "SPARK_DRIVER_MEMORY" not in os.environ:
            builder = builder.config("spark.driver.memory", f"{_local_heap_gb()}g")
    session = (builder.config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.adaptive.enabled", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session
