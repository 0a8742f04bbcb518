"""The small sources' fixed costs: their landing files are landed on the driver by the landing
data source's reader (the same raw rows as Spark's tasks write, no job, no session needed), and
their staging runs one Spark job, its write: the raw day's repeated keys are counted on the
driver from the key column (the same keys Spark's aggregate finds), not by a shuffle of two
more jobs (real Spark, S3 endpoint; the bench's per-step job counts)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from pyspark.sql import functions as F

from bank_assets.builders.assets import _stage_day, _stage_days
from bank_assets.io.spark import tables
from bank_assets.io.spark.session import spark_jobs
from bank_assets.io.spark.tables import land_raw, read_day, read_raw, write_table
from bank_assets.model import staging
from bank_assets.model.sources import SOURCES
from bank_assets.simulator import simulate
from bank_assets_tests.conftest import DAY

WAYS = {"driver": tables.DRIVER_KEY_ROWS, "spark": -1}  # every day has over -1 rows
LANDING_WAYS = {"driver": tables.LOCAL_LAND_BYTES, "spark": -1}  # every day is over -1 bytes


def _jobs_since(t0: float) -> int:
    return sum(1 for j in spark_jobs() if j["submitted"] >= t0)


def test_repeated_keys_are_the_same_either_way(spark, lake, monkeypatch):
    # keys 0-29, 10 of them twice, a NULL key twice (never a repeat), and "7 " (not "7")
    keys = spark.range(44).select(
        F.when(F.col("id") < 40, (F.col("id") % 30).cast("string"))
        .when(F.col("id") == 42, F.lit("7 "))
        .alias("k"),
        F.col("id").alias("n"),
    )
    write_table(keys.repartition(3), lake, "raw", "t", DAY)
    found, jobs = {}, {}
    for way, rows in WAYS.items():
        monkeypatch.setattr(tables, "DRIVER_KEY_ROWS", rows)
        t0 = time.time() - 0.001  # the status store keeps milliseconds
        raw, repeats = read_raw(spark, lake, "t", DAY, "k", also=["29", "99"])
        jobs[way] = _jobs_since(t0)
        found[way] = sorted(r.n for r in repeats.collect())
        assert raw.count() == 44
    assert found["driver"] == found["spark"] == [*range(10), 29, *range(30, 40)]
    assert jobs["driver"] == 0 and jobs["spark"] >= 1  # the aggregate: a shuffle's jobs


@pytest.mark.parametrize("name", ["products", "accounts"])
def test_a_small_source_stages_in_one_spark_job(spark, lake, name):
    (landed,) = simulate(lake, DAY, 1, 300, seed=5)
    source, expected = SOURCES[name], landed.manifest["tables"][name]["expected"]
    land_raw(spark, lake, name, DAY, source.file_format, source.raw_schema())
    t0 = time.time() - 0.001
    staged = _stage_day(spark, lake, staging.STAGING[name], DAY)
    assert _jobs_since(t0) == 1  # the one pass that writes staged/ and quarantine/
    outcome = staged.outcome
    assert outcome.unaccounted == 0 and outcome.staged == expected["staged"]
    assert outcome.quarantined == expected["quarantined"]
    assert outcome.duplicates == expected["duplicates_dropped"]


def test_a_small_landing_lands_the_same_rows_without_spark(spark, lake, monkeypatch):
    (landed,) = simulate(lake, DAY, 1, 300, seed=9)
    source = SOURCES["merchants"]
    entry = lake.manifest_table(DAY, "merchants")
    got = {}
    for way, threshold in LANDING_WAYS.items():
        monkeypatch.setattr(tables, "LOCAL_LAND_BYTES", threshold)
        t0 = time.time() - 0.001
        # the driver's way never asks for the session (a run's may still be starting)
        session = (lambda: pytest.fail("asked for Spark")) if way == "driver" else (lambda: spark)
        written, files = land_raw(
            session, lake, "merchants", DAY, "jsonl", source.raw_schema(), manifest=entry
        )
        jobs = _jobs_since(t0)
        rows = read_day(lake, "raw", "merchants", DAY)
        got[way] = (written.rows, written.cards_masked, files, rows.sort_by("_line").to_pylist())
        assert jobs == (0 if way == "driver" else 1)
    assert got["driver"] == got["spark"]
    assert got["driver"][0] == entry["rows"] == landed.manifest["tables"]["merchants"]["rows"]


def test_a_range_of_a_small_source_stages_in_one_pass(spark, lake):
    days = [DAY, DAY + timedelta(days=1)]
    landed = simulate(lake, DAY, 2, 300, seed=11)
    source = SOURCES["loans"]
    for day in days:
        land_raw(spark, lake, "loans", day, source.file_format, source.raw_schema())
    alone = {d: _stage_day(spark, lake, staging.STAGING["loans"], d).outcome for d in days}
    rows = {d: read_day(lake, "staged", "loans", d).sort_by("loan_id") for d in days}
    t0 = time.time() - 0.001
    staged = _stage_days(spark, lake, staging.STAGING["loans"], days)
    assert _jobs_since(t0) == 1  # both days, both tables, one write
    for day, result in zip(days, landed):
        expected = result.manifest["tables"]["loans"]["expected"]
        outcome = staged[day].outcome
        assert outcome == alone[day] and outcome.unaccounted == 0
        assert (
            outcome.staged == expected["staged"] and outcome.quarantined == expected["quarantined"]
        )
        again = read_day(lake, "staged", "loans", day).sort_by("loan_id")
        assert again.equals(rows[day])  # the same rows as staged alone
