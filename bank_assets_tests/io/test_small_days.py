"""A small lake day is read on the driver (pyarrow -> Arrow batches into Spark) and COPYed into
PostgreSQL from the driver; a larger one goes through the Python data sources. Both ways give
the same frame and the same warehouse rows (real Spark, S3 endpoint, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pyspark.sql import functions as F

from bank_assets.io.spark import tables
from bank_assets.io.spark.tables import (
    copy_to_warehouse,
    read_earlier,
    read_table,
    write_split,
    write_table,
)
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model import staging
from bank_assets.model.tables import TABLES
from bank_assets_tests.builders import query, raw_transactions
from bank_assets_tests.conftest import DAY

WAYS = {"driver": tables.LOCAL_READ_BYTES, "data source": -1}  # every day is over -1 bytes


def _typed(spark):
    return spark.range(40).select(
        (F.col("id") % 30).cast("string").alias("k"),
        F.col("id").alias("n"),
        (F.col("id") / 4).alias("x"),
        F.timestamp_seconds(F.col("id") * 3600).alias("at"),
        F.when(F.col("id") % 7 == 0, F.lit(None)).otherwise(F.date_add(F.lit(DAY), 1)).alias("d"),
    )


def _rows(df):
    return sorted(tuple(r) for r in df.collect())


def test_small_and_large_days_read_the_same(spark, lake, monkeypatch):
    write_table(_typed(spark).repartition(3), lake, "staged", "t", DAY)
    write_table(_typed(spark).where("id < 5"), lake, "staged", "t", DAY - timedelta(days=2))
    write_table(spark.range(3).where("id < 0"), lake, "staged", "empty", DAY)
    read = {}
    for way, threshold in WAYS.items():
        monkeypatch.setattr(tables, "LOCAL_READ_BYTES", threshold)
        monkeypatch.setattr(tables, "LOCAL_COLUMNS_BYTES", threshold)
        whole = read_table(spark, lake, "staged", "t", DAY)
        read[way] = {
            "schema": whole.schema,
            "rows": _rows(whole),
            "columns": _rows(read_table(spark, lake, "staged", "t", DAY, ["n", "k"])),
            "only": _rows(read_table(spark, lake, "staged", "t", DAY, only=("k", ["3", "31"]))),
            "earlier": _rows(read_earlier(spark, lake, "staged", "t", DAY, 3, ["n", "at"])),
            "empty": read_table(spark, lake, "staged", "empty", DAY).count(),
        }
    assert read["driver"] == read["data source"]
    small = read["driver"]
    assert len(small["rows"]) == 40 and small["schema"].names == ["k", "n", "x", "at", "d"]
    assert [r[:2] for r in small["columns"]][:2] == [(0, "0"), (1, "1")]
    assert [r[1] for r in small["only"]] == [3, 33]  # "31" is no key of the day
    assert [r[0] for r in small["earlier"]] == [0, 1, 2, 3, 4] and small["empty"] == 0


@pytest.mark.parametrize("way", WAYS)
def test_a_small_quarantine_day_loads_as_a_large_one(spark, local_lake, pg_dsn, monkeypatch, way):
    monkeypatch.setattr(tables, "LOCAL_READ_BYTES", WAYS[way])
    spec = staging.STAGING["transactions"]
    raw = raw_transactions(spark, [{"transaction_id": f"TX{i}\u0000"} for i in range(5)])
    classified, _ = staging.classify(raw, None, spec, DAY)
    write_split(
        staging.dispose(classified, spec, DAY).repartition(2),
        local_lake,
        DAY,
        "_disposition",
        {staging.QUARANTINED: ("quarantine", "transactions", staging.QUARANTINE_COLUMNS)},
    )
    loaded = Warehouse(pg_dsn).load(
        lambda stage: copy_to_warehouse(
            spark, local_lake, "quarantine", "transactions", DAY, pg_dsn, stage
        ),
        TABLES["quarantine.transactions"],
        DAY,
    )
    assert loaded.rows == 5
    keys = query(pg_dsn, "select record_key from quarantine.transactions order by 1")
    assert [k for (k,) in keys] == [f"TX{i}\\u0000" for i in range(5)]
