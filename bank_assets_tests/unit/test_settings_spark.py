"""Spark's parallelism comes from the settings (BANK_ASSETS_SPARK_*), with defaults for the kind
of master, and reaches the session through SparkResource; a wrong value is refused at once."""

from __future__ import annotations

import pytest

from bank_assets.resources import SparkResource
from bank_assets.settings import ConfigurationError, Settings


def properties(env: dict[str, str], **spark_config) -> dict[str, str]:
    return SparkResource(spark_config=spark_config).properties(Settings.from_env(env))


def test_local_defaults_leave_the_executors_to_the_driver():
    assert properties({}) == {
        "spark.master": "local[*]",
        "spark.driver.memory": "2g",
        "spark.sql.shuffle.partitions": "8",
    }


@pytest.mark.parametrize("master", ["spark://spark-master:7077", "k8s://https://k:443", "yarn"])
def test_a_cluster_gets_cluster_defaults(master):
    assert properties({"BANK_ASSETS_SPARK_MASTER": master}) == {
        "spark.master": master,
        "spark.driver.memory": "2g",
        "spark.sql.shuffle.partitions": "64",
        "spark.executor.memory": "4g",
        "spark.executor.cores": "2",
    }


def test_local_cluster_executors_fit_its_workers():
    """local-cluster[N,C,M] refuses executors larger than its M MiB workers."""
    got = properties({"BANK_ASSETS_SPARK_MASTER": "local-cluster[2, 1, 1024]"})
    assert got["spark.executor.memory"] == "1024m"
    assert got["spark.executor.cores"] == "1"
    assert got["spark.sql.shuffle.partitions"] == "64"


def test_the_variables_win_over_the_defaults_and_the_resource_over_both():
    env = {
        "BANK_ASSETS_SPARK_MASTER": "spark://m:7077",
        "BANK_ASSETS_SPARK_SHUFFLE_PARTITIONS": "200",
        "BANK_ASSETS_SPARK_EXECUTOR_MEMORY": "12g",
        "BANK_ASSETS_SPARK_EXECUTOR_CORES": "5",
        "BANK_ASSETS_SPARK_DRIVER_MEMORY": "6g",
    }
    got = properties(env)
    assert (
        got["spark.sql.shuffle.partitions"],
        got["spark.executor.memory"],
        got["spark.executor.cores"],
        got["spark.driver.memory"],
    ) == ("200", "12g", "5", "6g")
    assert properties(env, **{"spark.sql.shuffle.partitions": "16"})[
        "spark.sql.shuffle.partitions"
    ] == ("16")
    # the resource's master decides the defaults: a local run of a cluster's settings
    local = properties({}, **{"spark.master": "local[2]"})
    assert "spark.executor.memory" not in local and local["spark.sql.shuffle.partitions"] == "8"


def test_connect_takes_only_the_session_options():
    """A Spark Connect server runs its own executors: only the shuffle partitions (a session's
    SQL option) go to it; executor sizes are the server's."""
    got = properties(
        {
            "BANK_ASSETS_SPARK_MASTER": "sc://127.0.0.1:15002",
            "BANK_ASSETS_SPARK_EXECUTOR_CORES": "4",
        }
    )
    assert "spark.executor.cores" not in got and got["spark.sql.shuffle.partitions"] == "8"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BANK_ASSETS_SPARK_SHUFFLE_PARTITIONS", "0"),
        ("BANK_ASSETS_SPARK_SHUFFLE_PARTITIONS", "eight"),
        ("BANK_ASSETS_SPARK_EXECUTOR_CORES", "-2"),
        ("BANK_ASSETS_SPARK_EXECUTOR_MEMORY", "4 GB"),
        ("BANK_ASSETS_SPARK_DRIVER_MEMORY", "lots"),
    ],
)
def test_a_wrong_value_is_refused_with_its_name(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})
