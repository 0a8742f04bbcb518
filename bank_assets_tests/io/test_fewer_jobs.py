"""Reads that spare the fact Spark jobs: a few columns of a larger day are read on the driver
when those columns are small (their bytes from the Parquet footers), and the days before a
first day come as an empty local relation, which the plan drops with what reads it."""

from __future__ import annotations

from pyspark.sql import functions as F

from bank_assets.io.spark import tables
from bank_assets.io.spark.tables import read_earlier, read_table, write_table
from bank_assets.model.dimensions import with_earlier
from bank_assets_tests.conftest import DAY


def _plan(df) -> str:
    return df._jdf.queryExecution().executedPlan().toString()


def test_small_columns_of_a_larger_day_are_read_on_the_driver(spark, local_lake, monkeypatch):
    wide = spark.range(2000).select(
        F.col("id").cast("string").alias("k"),
        F.sha2(F.col("id").cast("string"), 512).alias("noise"),  # most of the file's bytes
    )
    written = write_table(wide, local_lake, "curated", "dim", DAY)
    # larger than the threshold as a whole, the key column alone is below it
    monkeypatch.setattr(tables, "LOCAL_READ_BYTES", written.bytes // 3)
    monkeypatch.setattr(tables, "LOCAL_COLUMNS_BYTES", written.bytes // 3)
    keys = read_table(spark, local_lake, "curated", "dim", DAY, ["k"])
    whole = read_table(spark, local_lake, "curated", "dim", DAY)
    assert "LocalTableScan" in _plan(keys) and "BatchScan" not in _plan(keys)
    assert "BatchScan" in _plan(whole)
    assert sorted(r.k for r in keys.collect()) == sorted(r.k for r in whole.select("k").collect())


def test_no_days_before_plan_no_fallback(spark, local_lake):
    today = spark.range(3).select(F.col("id").cast("string").alias("k"), F.col("id").alias("v"))
    write_table(today.select("*", F.lit(DAY).alias("valid_from")), local_lake, "curated", "d", DAY)
    earlier = read_earlier(spark, local_lake, "curated", "d", DAY, 7, ["k", "v", "valid_from"])
    assert earlier.count() == 0 and earlier.columns == ["k", "v", "valid_from"]
    rows = with_earlier(today, earlier, "k")
    optimized = rows._jdf.queryExecution().optimizedPlan().toString()
    assert "Window" not in optimized and "Join" not in optimized  # the fallback branch is gone
    assert sorted(tuple(r) for r in rows.collect()) == [
        ("0", 0, False),
        ("1", 1, False),
        ("2", 2, False),
    ]
