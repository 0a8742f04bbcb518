"""The command line as a user runs it: simulate, backfill, status --json, bench --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bank_assets_tests.conftest import DAY
from bank_assets_tests.test_access import private_modes

pytestmark = pytest.mark.slow


def cli(*args: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "bank_assets.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=900,
    )
    if ok:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture()
def home(tmp_path, s3_env, s3_lake_url, pg_dsn) -> dict[str, str]:
    """A user's environment: MinIO-style S3 lake, a PostgreSQL DSN, a state directory."""
    return {
        "BANK_ASSETS_HOME": str(tmp_path / "home"),
        "BANK_ASSETS_LAKE_URL": s3_lake_url,
        "BANK_ASSETS_PG_DSN": pg_dsn,
        "BANK_ASSETS_SPARK_MASTER": "local[2]",
        "BANK_ASSETS_SPARK_DRIVER_MEMORY": "2g",
        "DAGSTER_PG_URL": pg_dsn.replace("postgresql://", "postgresql+psycopg2://"),
    }


def test_simulate_backfill_and_status(home):
    out = cli("simulate", "--date", DAY.isoformat(), "--transactions", "800", env=home)
    assert f"landed {DAY}: transactions " in out.stdout
    refused = cli("backfill", "--start", "2026-11-18", "--end", DAY.isoformat(), env=home, ok=False)
    assert refused.returncode != 0
    assert "not landed (no manifest), nothing was run: 2026-11-18, 2026-11-19" in refused.stderr
    future = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    refused = cli("backfill", "--start", DAY.isoformat(), "--end", future, env=home, ok=False)
    assert refused.returncode != 0 and f"{future}; a day is one once it is over" in refused.stderr
    out = cli("backfill", "--start", DAY.isoformat(), env=home)
    assert f"{DAY}..{DAY} materialized" in out.stdout
    status = json.loads(cli("status", "--json", env=home).stdout)
    fact = status["tables"]["fact_transactions"]
    assert fact["rows"] == fact["partitions"][DAY.isoformat()] > 0
    assert set(status["tables"]) >= {"dim_clients", "dim_accounts", "dim_dates"}
    text = cli("status", env=home).stdout
    assert "fact_transactions" in text and f"{DAY}: {fact['rows']:,}" in text
    # what the run wrote in the state directory (the Dagster home) is the user's only
    assert private_modes(Path(home["BANK_ASSETS_HOME"])) == []


def test_bench_prints_figures_and_a_json_last_line(tmp_path):
    env = {
        "BANK_ASSETS_HOME": str(tmp_path / "home"),
        "BANK_ASSETS_SPARK_MASTER": "local[2]",
        "BANK_ASSETS_SPARK_DRIVER_MEMORY": "2g",
    }
    out = cli("bench", "--transactions", "2000", "--days", "2", "--json", env=env)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert {
        "transactions",
        "days",
        "total_seconds",
        "transactions_per_second",
        "peak_rss_mb",
    } <= set(report)
    assert report["transactions"] == 4000 and report["days"] == 2
    assert report["total_seconds"] > 0 and report["peak_rss_mb"] > 100
    assert 0 < report["checks_seconds"] < report["total_seconds"]
    assets = report["assets"]
    assert assets["warehouse/fact_transactions"]["rows"] > 3000
    assert "end to end" in out.stdout
    # the lake (written by Spark's Python workers), the server's data and its passwords: all
    # private to the user (directories 0700, files 0600)
    bench = tmp_path / "home" / "bench"
    assert {"lake", "postgres", "postgres.secrets.json"} <= {p.name for p in bench.iterdir()}
    assert any((bench / "lake").rglob("*.parquet"))
    assert private_modes(tmp_path / "home") == []


def test_printed_dsns_hide_the_password():
    from bank_assets.cli import redacted

    assert redacted("postgresql://bank:s3cret@db:5432/bank") == "postgresql://bank:***@db:5432/bank"
    assert (
        redacted("postgresql://postgres:@/bank?host=/x") == "postgresql://postgres:@/bank?host=/x"
    )
