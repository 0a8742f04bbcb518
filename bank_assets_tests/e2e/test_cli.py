"""The command line as a user runs it: simulate, backfill (a Dagster backfill, run by the daemon
it starts), status --json, bench --json."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bank_assets_tests.builders import private_modes, query
from bank_assets_tests.conftest import DAY
from bank_assets_tests.e2e.command_line import cli

pytestmark = pytest.mark.slow


def test_simulate_backfill_and_status(home):
    out = cli("simulate", "--date", DAY.isoformat(), "--transactions", "800", env=home)
    assert f"landed {DAY}: transactions " in out.stdout
    refused = cli("backfill", "--start", "2026-11-18", "--end", DAY.isoformat(), env=home, ok=False)
    assert refused.returncode != 0
    assert "not landed (no manifest), nothing was run: 2026-11-18, 2026-11-19" in refused.stderr
    future = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    refused = cli("backfill", "--start", DAY.isoformat(), "--end", future, env=home, ok=False)
    assert refused.returncode != 0 and f"{future}: not over yet" in refused.stderr
    out = cli("backfill", "--start", DAY.isoformat(), env=home)
    # a Dagster backfill: no daemon runs here, so the command starts one for its duration
    backfill = re.search(r"^backfill (\w+) submitted: every asset for ", out.stdout, re.M)
    assert backfill and "starting `dagster-daemon run` for this backfill" in out.stdout
    assert f"backfill {backfill.group(1)}: completed_success" in out.stdout
    assert re.search(rf"^  materialized warehouse/fact_transactions +{DAY} ", out.stdout, re.M)
    assert re.search(rf"^  {DAY}  passed", out.stdout, re.M)  # the day's data-quality verdict
    (run_id,) = re.findall(r"^runs: (\S+)$", out.stdout, re.M)
    # the instance (here in the same database) holds the backfill and its run; the daemon is gone
    assert query(home["BANK_ASSETS_PG_DSN"], "select key, status from bulk_actions") == [
        (backfill.group(1), "COMPLETED_SUCCESS")
    ]
    tags = "select value from run_tags where run_id = %s and key = 'dagster/backfill'"
    assert query(home["BANK_ASSETS_PG_DSN"], tags, (run_id,)) == [(backfill.group(1),)]
    assert query(home["BANK_ASSETS_PG_DSN"], "select count(*) from daemon_heartbeats") == [(0,)]
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
    out = cli("bench", "--transactions", "2000", "--days", "2", "--floor", "--json", env=env)
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
    # the shape: Spark's own counts, each step's share of them, the driver's Python apart
    spark = report["spark"]
    assert 0 < spark["jobs"] <= spark["stages"] <= spark["tasks"]
    steps = report["steps"]
    (staging,) = [s for s in steps.values() if "staged/transactions" in s["assets"]]
    assert staging["jobs"] > 0 and staging["tasks"] >= staging["stages"] >= staging["jobs"]
    assert sum(s["jobs"] for s in steps.values()) <= spark["jobs"]
    assert sum(s["seconds"] for s in steps.values()) <= report["total_seconds"]
    assert 50 < report["driver_rss_mb"] < report["peak_rss_mb"]
    # the floor: the first day's transaction path again in plain Spark, in a fresh process, cold
    # then warm, with the run's row counts (planted defects: some quarantined, some dropped)
    floor = report["floor"]
    assert floor["agreed"] and floor["differs"] == [] and floor["session_seconds"] > 0
    assert set(floor["steps"]) == {"raw", "staged", "fact", "fraudes"}
    for step in floor["steps"].values():
        assert step["cold"] > 0 and step["warm"] > 0 and step["jobs"] > 0
    assert floor["cold_seconds"] > floor["warm_seconds"] > 0
    expected = floor["pipeline_rows"]
    staged = floor["steps"]["staged"]["rows"]
    assert staged["staged"] == expected["staged"] > 1900 and staged["quarantined"] > 0
    assert staged["duplicates"] > 0 and "malformed_line" in expected["rules"]
    assert floor["steps"]["raw"]["rows"]["raw"] == expected["raw"] > 2000
    fact = floor["steps"]["fact"]["rows"]["fact_transactions"]
    assert fact == expected["fact_transactions"] < assets["curated/fact_transactions"]["rows"]
    assert "row counts agree with the pipeline's" in out.stdout
    assert "landing CSV -> raw Parquet" in out.stdout
    # the lake (written by Spark's Python workers), the server's data and its passwords: all
    # private to the user (directories 0700, files 0600)
    bench = tmp_path / "home" / "bench"
    assert {"lake", "postgres", "postgres.secrets.json"} <= {p.name for p in bench.iterdir()}
    assert any((bench / "lake").rglob("*.parquet"))
    assert private_modes(tmp_path / "home") == []
