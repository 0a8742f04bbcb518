"""A small staging pass is planned without whole-stage code generation (its compile costs more
than its rows), and the session's setting comes back after it, however the pass ended."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from bank_assets.io.spark import tables
from bank_assets.io.spark.tables import INTERPRETED_ROWS, WHOLE_STAGE, interpreted


def _codegen_stages(df) -> int:
    df.write.format("noop").mode("overwrite").save()  # planned and run as a write would be
    return df._jdf.queryExecution().executedPlan().toString().count("*(")


def _rows(spark):
    return spark.range(50).select((F.col("id") * 3).alias("x"), F.upper(F.lit("a")).alias("y"))


def test_small_inputs_run_interpreted_and_the_setting_is_restored(spark):
    assert _codegen_stages(_rows(spark)) > 0
    with interpreted(spark, INTERPRETED_ROWS):
        assert spark.conf.get(WHOLE_STAGE) == "false"
        assert _codegen_stages(_rows(spark)) == 0
    assert spark.conf.get(WHOLE_STAGE) == "true"
    with interpreted(spark, INTERPRETED_ROWS + 1):  # a larger input keeps the compiled plan
        assert _codegen_stages(_rows(spark)) > 0


def test_a_failed_write_restores_the_session_setting(spark, monkeypatch):
    spark.conf.set(WHOLE_STAGE, "true")  # set explicitly: comes back as it was, not unset
    with pytest.raises(ZeroDivisionError), interpreted(spark, 1):
        assert spark.conf.get(WHOLE_STAGE) == "false"
        raise ZeroDivisionError
    assert spark.conf.get(WHOLE_STAGE) == "true"
    spark.conf.unset(WHOLE_STAGE)
    monkeypatch.setattr(tables, "INTERPRETED_ROWS", 0)  # read when the pass runs
    with interpreted(spark, 1):
        assert spark.conf.get(WHOLE_STAGE) == "true"
