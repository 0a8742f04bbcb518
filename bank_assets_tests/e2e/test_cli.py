"""The command line as a user runs it: simulate, backfill (a Dagster backfill, run by the daemon
it starts), status --json, bench --json."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bank_assets_tests.builders import checksum, day_checksum, materialize, private_modes, query
from bank_assets_tests.conftest import DAY

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
        "BANK_ASSETS_SENSOR_INTERVAL_SECONDS": "5",  # failure alerts 5 s after a failed run
    }


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
    # the shape: Spark's own counts, each step's share of them, the driver's Python apart
    spark = report["spark"]
    assert 0 < spark["jobs"] <= spark["stages"] <= spark["tasks"]
    steps = report["steps"]
    (staging,) = [s for s in steps.values() if "staged/transactions" in s["assets"]]
    assert staging["jobs"] > 0 and staging["tasks"] >= staging["stages"] >= staging["jobs"]
    assert sum(s["jobs"] for s in steps.values()) <= spark["jobs"]
    assert sum(s["seconds"] for s in steps.values()) <= report["total_seconds"]
    assert 50 < report["driver_rss_mb"] < report["peak_rss_mb"]
    # the lake (written by Spark's Python workers), the server's data and its passwords: all
    # private to the user (directories 0700, files 0600)
    bench = tmp_path / "home" / "bench"
    assert {"lake", "postgres", "postgres.secrets.json"} <= {p.name for p in bench.iterdir()}
    assert any((bench / "lake").rglob("*.parquet"))
    assert private_modes(tmp_path / "home") == []


def alerts_of(dsn: str) -> list[tuple]:
    return query(dsn, "select kind, run_id, subject, message from dq.alerts order by alert_id")


def test_a_run_refused_by_a_day_lock_fails_at_once_and_alerts(home, pg_dsn, webhook):
    """Another run holds the day: a command-line run of it fails before writing anything,
    naming the holder, and writes its run_failure alert (row and webhook) as daemon runs do."""
    import dagster as dg

    from bank_assets.defs.reference import assets as reference_assets
    from bank_assets.io.warehouse.day_locks import hold_days
    from bank_assets.io.warehouse.loader import Warehouse
    from bank_assets.resources import WarehouseResource

    url, received = webhook
    cli("simulate", "--date", DAY.isoformat(), "--transactions", "200", env=home)
    previous = (DAY - timedelta(days=1)).isoformat()  # an earlier day's rows, to stay intact
    resources = {"warehouse": WarehouseResource(dsn=pg_dsn)}
    assert dg.materialize(reference_assets, partition_key=previous, resources=resources).success
    before = checksum(pg_dsn)
    with hold_days(Warehouse(pg_dsn), [DAY], "the-other-run"):
        out = cli(
            "backfill",
            "--start",
            DAY.isoformat(),
            env={**home, "BANK_ASSETS_ALERT_WEBHOOK": url},
            ok=False,
        )
    assert out.returncode == 1
    # what the command says: each failed run of the backfill, its error and its alert
    told = re.findall(
        r"^run (\S+) failed: (.*)\nfailure alert written to dq.alerts$", out.stderr, re.M
    )
    assert told, out.stderr[-3000:]
    assert re.search(rf"^backfill \w+ completed_failed; failed days: {DAY}\. ", out.stderr, re.M)
    for _, error in told:
        assert f"day {DAY} is being processed by run the-other-run (started " in error
    assert checksum(pg_dsn) == before
    # A refusal is no data-quality failure (no step ran): the instance may retry the run once
    # (run_retries), refused again; each attempt alerts once, row and webhook.
    runs = [run_id for run_id, _ in told]
    assert len(runs) in (1, 2)
    if len(runs) == 2:
        parent = "select value from run_tags where run_id = %s and key = 'dagster/parent_run_id'"
        assert query(pg_dsn, parent, (runs[1],)) == [(runs[0],)]
    alerts = alerts_of(pg_dsn)
    assert [(kind, run_id, subject) for kind, run_id, subject, _ in alerts] == [
        ("run_failure", run_id, "") for run_id in runs
    ]
    assert all(f"for {DAY} failed" in message for *_, message in alerts)
    assert [(m["kind"], m["run_id"]) for m in received] == [("run_failure", r) for r in runs]


def test_a_failed_run_alerts_once_per_run_and_check(home, pg_dsn, resources):
    """A day whose manifest disagrees with its files, run twice from the command line: each
    run writes its run_failure, the failed blocking check is one row (the latest run's), no
    rule warning is repeated, and the previous day is intact."""
    from bank_assets.io.lake import Lake
    from bank_assets.settings import Settings

    previous = DAY - timedelta(days=1)
    cli(
        "simulate", "--date", previous.isoformat(), "--days", "2", "--transactions", "500", env=home
    )
    # The previous day is loaded in process (a command-line backfill of a good day, and the
    # daemon it starts: test_simulate_backfill_and_status); only the failing runs need the CLI.
    assert materialize(resources, partition_key=previous.isoformat()).success
    kept = "select t::text from dw.fact_transactions t where batch_id = %s order by 1"
    before = query(pg_dsn, kept, (previous,))
    assert before
    every_table = day_checksum(pg_dsn, previous)
    lake = Lake(Settings.from_env({**os.environ, **home}).lake_config)
    manifest = lake.read_manifest(DAY)
    manifest["tables"]["transactions"]["rows"] += 1  # one line announced but never delivered
    lake.write_bytes(f"landing/manifests/{DAY}.json", json.dumps(manifest).encode())
    warnings_before = None
    runs = []
    for _ in range(2):
        out = cli("backfill", "--start", DAY.isoformat(), env=home, ok=False)
        told = re.search(
            r"^run (\S+) failed: (.*)\nfailure alert written to dq.alerts$", out.stderr, re.M
        )
        assert out.returncode == 1 and told, out.stderr[-3000:]
        assert "rows_accounted_for" in told.group(2)
        assert f"failed days: {DAY}. " in out.stderr
        assert re.search(
            rf"^  {DAY}  FAILED staged/transactions rows_accounted_for", out.stdout, re.M
        )
        runs.append(told.group(1))
        warnings = [a[2] for a in alerts_of(pg_dsn) if a[0] == "rule_warning"]
        assert len(warnings) == len(set(warnings))
        assert warnings_before is None or sorted(warnings) == sorted(warnings_before)
        warnings_before = warnings
    alerts = [a for a in alerts_of(pg_dsn) if a[0] != "rule_warning"]
    assert [(a[0], a[1]) for a in alerts] == [
        ("run_failure", runs[0]),
        ("check_failure", runs[1]),
        ("run_failure", runs[1]),
    ]
    assert alerts[1][2] == f"staged/transactions:rows_accounted_for:{DAY}"
    assert query(pg_dsn, kept, (previous,)) == before
    assert day_checksum(pg_dsn, previous) == every_table
    # a data-quality failure is not retried by the instance (run_retries, dagster.yaml): no
    # run has a parent run
    retried = "select count(*) from run_tags where key = 'dagster/parent_run_id'"
    assert query(pg_dsn, retried) == [(0,)]
