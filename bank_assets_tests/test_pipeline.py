"""End to end through Dagster: landing files on S3 -> raw -> staged -> curated -> PostgreSQL,
with exact reconciliation against the simulator's manifest and idempotent re-runs (date ranges
as one run: test_star_schema.py)."""

from __future__ import annotations

import hashlib
import json

import dagster as dg
import psycopg
import pytest

from bank_assets.definitions import defs
from bank_assets.lib.lake import LakeError
from bank_assets.lib.simulator import DEFECTS, simulate
from bank_assets.lib.sources import TRANSACTIONS
from bank_assets.lib.warehouse import TABLES
from bank_assets_tests.conftest import DAY

pytestmark = pytest.mark.slow
TX = 3_000
WAREHOUSE_TABLES = list(TABLES)


def all_assets():
    return list(defs.assets)


def materialize(resources, partition_key: str):
    return dg.materialize(all_assets(), partition_key=partition_key, resources=resources)


def query(dsn: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def checksum(dsn: str) -> dict[str, tuple[int, str]]:
    """Per warehouse table: row count and a hash of every row (ordered)."""
    out = {}
    for table in WAREHOUSE_TABLES:
        rows = query(dsn, f"select t::text from {table} t order by t::text")
        out[table] = (len(rows), hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest())
    return out


def test_one_day_reconciles_exactly_with_the_manifest(resources, lake, pg_dsn):
    (landed,) = simulate(lake, DAY, 1, TX, seed=21)
    manifest = landed.manifest["tables"]
    result = materialize(resources, DAY.isoformat())
    assert result.success

    meta = {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.metadata.items()}
        for e in (
            ev.step_materialization_data.materialization
            for ev in result.get_asset_materialization_events()
        )
    }
    tx = manifest["transactions"]
    assert meta["raw/transactions"]["dagster/row_count"] == tx["rows"]
    assert meta["staged/transactions"]["dagster/row_count"] == tx["expected"]["staged"]
    assert meta["quarantine/transactions"]["dagster/row_count"] == tx["expected"]["quarantined"]
    assert meta["staged/transactions"]["duplicates_dropped"] == tx["expected"]["duplicates_dropped"]
    for name in ("raw/transactions", "curated/fact_transactions", "warehouse/fact_transactions"):
        assert {"seconds", "rows_per_second", "dagster/row_count"} <= set(meta[name])

    # Warehouse rows, counted in PostgreSQL.
    assert query(pg_dsn, "select count(*) from dw.fact_transactions where date_key = 20261120") == [
        (tx["expected"]["staged"],)
    ]
    by_rule = dict(
        query(pg_dsn, "select rule_id, count(*) from quarantine.transactions group by 1")
    )
    planted = tx["defects"]
    expected_rules = {
        rule: planted[kind] * (2 if kind == "conflicting_duplicate" else 1)
        for kind, (_, rule) in DEFECTS.items()
        if rule not in (None, "exact_duplicate")
    }
    assert by_rule == expected_rules
    malformed = query(
        pg_dsn,
        "select reason, source_file, source_line, raw_payload from quarantine.transactions "
        "where rule_id = 'malformed_line' order by source_line limit 1",
    )[0]
    fields = len(TRANSACTIONS.columns)
    assert f"{malformed[1]} line {malformed[2]}: expected {fields} fields" in malformed[0]
    assert malformed[3].count(",") == 7  # the truncated line as landed
    # Orphan accounts resolve to the unknown member, never to NULL.
    assert query(pg_dsn, "select count(*) from dw.fact_transactions where account_key = -1") == [
        (planted["orphan_account"],)
    ]
    assert query(
        pg_dsn,
        "select count(*) from dw.fact_transactions f left join dw.dim_accounts a "
        "using (account_key) where a.account_key is null",
    ) == [(0,)]
    # Landed = staged + quarantined + dropped duplicates, for every source table.
    for name, table in manifest.items():
        landed_rows = meta[f"raw/{name}"]["dagster/row_count"]
        staged = meta[f"staged/{name}"]["dagster/row_count"]
        quarantined = meta[f"quarantine/{name}"]["dagster/row_count"]
        dropped = meta[f"staged/{name}"]["duplicates_dropped"]
        assert landed_rows == staged + quarantined + dropped == table["rows"], name

    # The blocking reconciliation check passed for every source table, with its figures.
    checks = {e.asset_key.path[1]: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == set(manifest)
    for name, evaluation in checks.items():
        assert evaluation.passed and evaluation.check_name == "rows_accounted_for"
        figures = evaluation.metadata["by_day"].value[DAY.isoformat()]
        assert figures["landed"] == figures["manifest"] == manifest[name]["rows"]

    # Re-running the day gives exactly the same warehouse rows.
    before = checksum(pg_dsn)
    assert materialize(resources, DAY.isoformat()).success
    assert checksum(pg_dsn) == before


def test_a_day_that_has_not_landed_is_not_processed(resources, lake):
    with pytest.raises(LakeError, match="has not landed: no manifest"):
        materialize(resources, "2026-11-01")


def test_manifest_disagreeing_with_the_files_stops_before_the_warehouse(resources, lake, pg_dsn):
    (landed,) = simulate(lake, DAY, 1, 500, seed=4)
    manifest = landed.manifest
    manifest["tables"]["transactions"]["rows"] += 1  # one line announced but never delivered
    lake.write_bytes(f"landing/manifests/{DAY}.json", json.dumps(manifest).encode())
    result = dg.materialize(
        all_assets(), partition_key=DAY.isoformat(), resources=resources, raise_on_error=False
    )
    assert not result.success
    (failed,) = [
        e for e in result.get_asset_check_evaluations() if e.asset_key.path[1] == "transactions"
    ]
    assert not failed.passed and f"unaccounted for on {DAY}" in failed.description
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "staged/transactions" in built
    assert "curated/fact_transactions" not in built and "warehouse/fact_transactions" not in built
    assert "warehouse/dim_clients" in built  # other tables of the day are not held back
    assert query(pg_dsn, "select count(*) from dw.fact_transactions") == [(0,)]
