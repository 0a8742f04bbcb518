"""The bench counts the Spark jobs, stages and tasks a run launched from Spark's own status store
(kept with the UI disabled, as the project runs Spark)."""

from __future__ import annotations

import time

from bank_assets.io.spark.session import spark_jobs


def since(t0: float) -> dict:
    jobs = [j for j in spark_jobs() if j["submitted"] >= t0]
    return {k: sum(j[k] for j in jobs) for k in ("stages", "tasks")} | {"jobs": len(jobs)}


def test_the_counts_rise_with_the_work_spark_ran(spark):
    assert spark.conf.get("spark.ui.enabled") == "false"
    t0 = time.time() - 0.001  # the status store keeps milliseconds
    spark.range(1000, numPartitions=3).collect()  # one job, one stage of 3 tasks
    one = since(t0)
    assert one == {"jobs": 1, "stages": 1, "tasks": 3}
    # an aggregation: a shuffle (3 map tasks) and its reduce side, more jobs and stages
    spark.range(1000, numPartitions=3).selectExpr("id % 4 as k").groupBy("k").count().collect()
    two = since(t0)
    assert two["jobs"] > one["jobs"] and two["stages"] >= one["stages"] + 2
    assert two["tasks"] >= one["tasks"] + 4
