"""The metric SQL of `abteach.events` runs unchanged on Apache Spark and gives DuckDB's answers.

Chapter 4 claims that its metric queries are portable SQL that a warehouse runs as they are.
This layer proves it on Spark SQL in local mode (`pyspark`, Java 17), over two event logs: the
real Hillstrom customers (two arms, built by `abteach.datasets.hillstrom_events`) and a
simulated log with returning users, sessions, clicks and purchases. Each query of
`METRIC_SQL` is run as printed on both engines against a table named `events`; the results
must be identical (integers exactly, floating point to 1e-9 relative).

Without pyspark or a Java runtime the tests are skipped with the reason; under CI=true they
fail instead (`.ci/run` installs what they need).
"""

from __future__ import annotations

import datetime
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from abteach import datasets
from abteach.events import EVENT_SCHEMA, METRIC_SQL, EventStore
from abteach.simulate import simulate_events

pytestmark = [
    pytest.mark.spark,
    # pyspark 4.0's Arrow conversion passes copy=False, which pandas 3 deprecates
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _missing("pyspark is not installed: `make install` installs requirements-dev.txt")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _missing("no Java runtime for Spark: install Debian's openjdk-17-jre-headless")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("abteach-sql-portability")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


SPARK_TYPES = {"VARCHAR": "STRING", "DOUBLE": "DOUBLE", "TIMESTAMP": "TIMESTAMP"}


def _logs():
    simulated = simulate_events(
        3_000, days=14, p_purchase=0.1, lift=0.1, revenue_mean=40.0, rng=2026
    ).events
    return {
        "hillstrom": datasets.hillstrom_events("Mens E-Mail"),
        "simulated": simulated,
    }


@pytest.fixture(scope="module", params=["hillstrom", "simulated"])
def engines(request, spark):
    """A DuckDB store and a Spark view `events` holding the same log."""
    log = _logs()[request.param]
    store = EventStore()
    store.ingest(log)
    stored = store.query("SELECT * FROM events")
    schema = ", ".join(f"{f.name} {SPARK_TYPES[f.sql_type]}" for f in EVENT_SCHEMA)
    frame = spark.createDataFrame(stored[[f.name for f in EVENT_SCHEMA]], schema=schema)
    frame.createOrReplaceTempView("events")
    yield store, spark
    store.close()


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        is_date = values.map(lambda v: isinstance(v, datetime.date)).any()
        if pd.api.types.is_datetime64_any_dtype(values) or is_date:
            # DuckDB returns DATE columns as datetime64, Spark as datetime.date objects
            frame[column] = pd.to_datetime(values.astype(object).map(
                lambda v: pd.Timestamp(v) if v is not None and not pd.isna(v) else pd.NaT
            )).dt.tz_localize(None)
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("name", sorted(METRIC_SQL))
def test_metric_sql_gives_the_same_result_on_spark(engines, name):
    store, spark = engines
    sql = METRIC_SQL[name]
    duck = _comparable(store.query(sql))
    sparkish = _comparable(spark.sql(sql).toPandas())
    assert list(sparkish.columns) == list(duck.columns)
    assert len(duck) > 0 and len(sparkish) == len(duck)
    for column in duck.columns:
        ours, theirs = duck[column], sparkish[column]
        if pd.api.types.is_float_dtype(ours) or pd.api.types.is_float_dtype(theirs):
            a, b = ours.to_numpy(float), theirs.to_numpy(float)
            assert np.array_equal(np.isnan(a), np.isnan(b)), column
            assert np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True), column
        elif pd.api.types.is_datetime64_any_dtype(ours):
            assert (ours.isna() == theirs.isna()).all(), column
            assert (ours[ours.notna()] == theirs[theirs.notna()]).all(), column
        else:
            assert ours.astype(str).tolist() == theirs.astype(str).tolist(), column
