"""The Definitions load, show the four layers per table, and loading never starts a JVM."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from bank_assets.builders.partitions import daily
from bank_assets_tests.builders import definitions


def asset_graph():
    return definitions().resolve_asset_graph()


def test_four_layers_for_each_source_table():
    keys = {k.to_user_string() for k in asset_graph().get_all_asset_keys()}
    for table, curated in (
        ("transactions", "fact_transactions"),
        ("clients", "dim_clients"),
        ("accounts", "dim_accounts"),
    ):
        assert {f"raw/{table}", f"staged/{table}", f"quarantine/{table}"} <= keys
        assert {f"curated/{curated}", f"warehouse/{curated}"} <= keys
        assert f"warehouse/quarantine_{table}" in keys
    assert {"curated/dim_dates", "warehouse/dim_dates"} <= keys


def test_every_asset_is_daily_partitioned_documented_and_grouped_by_layer():
    graph = asset_graph()
    for key in graph.materializable_asset_keys:  # (the external landing/*: test_landing_assets)
        node = graph.get(key)
        assert node.partitions_def == daily, key
        assert (node.description and "Grain" in node.description) or "quarantine" in key.path, key
        assert node.group_name == key.path[0], key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key
        assert node.kinds & {"spark", "python"}, key


def test_the_whole_star_is_in_the_graph():
    from bank_assets.model.tables import TABLES

    keys = {k.to_user_string() for k in asset_graph().get_all_asset_keys()}
    for table in TABLES.values():
        name = table.name if table.schema == "dw" else f"quarantine_{table.name}"
        assert f"warehouse/{name}" in keys
    facts = [t for t in TABLES.values() if t.name.startswith("fact_")]
    dims = [t for t in TABLES.values() if t.name.startswith("dim_")]
    assert len(facts) == 5 and len(dims) >= 5


def test_lineage_runs_landing_to_warehouse():
    graph = asset_graph()
    fact = dg.AssetKey(["curated", "fact_transactions"])
    parents = {k.to_user_string() for k in graph.get(fact).parent_keys}
    assert parents == {
        "staged/transactions",
        "staged/fx_rates",
        "curated/dim_accounts",
        "curated/dim_clients",
        "curated/dim_products",
        "curated/dim_merchants",
        "curated/dim_dates",
    }
    loaded = graph.get(dg.AssetKey(["warehouse", "fact_transactions"])).parent_keys
    # the dimensions its foreign keys point to are loaded first
    assert fact in loaded and dg.AssetKey(["warehouse", "dim_clients"]) in loaded


def test_job_and_resources():
    job = definitions().resolve_job_def("daily_warehouse")
    assert job.partitions_def == daily
    assert set(definitions().resources) == {"spark", "lake", "warehouse", "alerts"}


def test_loading_definitions_starts_no_jvm_and_needs_no_environment():
    code = (
        "import os\n"
        "for k in list(os.environ):\n"
        "    if k.startswith('BANK_ASSETS_'): del os.environ[k]\n"
        "from bank_assets.definitions import defs\n"
        "defs().resolve_asset_graph()\n"
        "from pyspark import SparkContext\n"
        "assert SparkContext._active_spark_context is None\n"
        "assert SparkContext._gateway is None\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
