"""What many tests build the same way: SQL against a test's warehouse, a pipeline's resources,
and what a materialization reports (its metadata, its check evaluations, what it built)."""

from __future__ import annotations

import functools
import hashlib

import dagster as dg
import psycopg

from bank_assets.model.tables import TABLES


def query(dsn: str, statement, params=()) -> list[tuple]:
    """The rows of one statement (a string or a psycopg.sql object), in its own connection."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement, params).fetchall()


def checksum(dsn: str) -> dict[str, tuple[int, str]]:
    """Per warehouse table: row count and a hash of every row (ordered), to prove tables intact."""
    out = {}
    for table in TABLES:
        rows = query(dsn, f"select t::text from {table} t order by t::text")
        out[table] = (len(rows), hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest())
    return out


def pipeline_resources(lake_url: str, dsn: str) -> dict:
    """The resources a run of the pipeline needs: local Spark, the lake at `lake_url`, the
    warehouse at `dsn`."""
    from bank_assets.resources import LakeResource, SparkResource, WarehouseResource

    return {
        "spark": SparkResource(master="local[2]"),
        "lake": LakeResource(url=lake_url),
        "warehouse": WarehouseResource(dsn=dsn),
    }


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """Per asset materialized in the run ("raw/transactions"): its metadata values."""
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.metadata.items()}
        for e in (
            ev.step_materialization_data.materialization
            for ev in result.get_asset_materialization_events()
        )
    }


def built(result: dg.ExecuteInProcessResult) -> set[str]:
    """The assets the run materialized."""
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """The run's check evaluations by (asset, check name)."""
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


@functools.cache
def definitions() -> dg.Definitions:
    """The project's Definitions, loaded once per test process."""
    from bank_assets.definitions import defs

    return defs()


def upstream_of(*keys: str) -> dg.AssetSelection:
    """`keys` ("warehouse/fact_transactions") and everything they are built from: a slice of
    the graph that a run can materialize on its own."""
    return dg.AssetSelection.assets(*(dg.AssetKey.from_user_string(k) for k in keys)).upstream()


def materialize(resources: dict, selection=None, **kwargs) -> dg.ExecuteInProcessResult:
    """The project's assets materialized in process: `selection` (default: the whole graph),
    with `dg.materialize`'s other arguments (partition_key, tags, raise_on_error...)."""
    return dg.materialize(
        list(definitions().assets), selection=selection, resources=resources, **kwargs
    )
