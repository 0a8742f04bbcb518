"""Failed runs from the command line: a run refused by another run's day lock, and a day that
fails a blocking check, in process and through a backfill: what the user is told, the alerts
written (once per run and check), and the previous day kept intact."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta

import pytest

from bank_assets_tests.builders import checksum, day_checksum, materialize, query
from bank_assets_tests.conftest import DAY
from bank_assets_tests.e2e.command_line import cli

pytestmark = pytest.mark.slow


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


def test_a_failed_run_alerts_once_per_run_and_check(home, pg_dsn, resources, monkeypatch):
    """A day whose manifest disagrees with its files, run twice: in process as `bank-assets
    demo` runs it, then from the command line (a backfill and the daemon it starts). Each run
    writes its run_failure, the failed blocking check is one row (the latest run's), no rule
    warning is repeated, and the previous day is intact."""
    import dagster as dg

    from bank_assets.cli.common import failed_run
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
    # 1. in process: the run fails, and `bank-assets` writes its alerts as the daemon would
    for name, value in home.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(
            resources, partition_key=DAY.isoformat(), instance=instance, raise_on_error=False
        )
        assert not result.success
        told = failed_run(instance, result)
    assert told.startswith(f"run {result.run_id} failed: ") and "rows_accounted_for" in told
    assert told.endswith("\nfailure alert written to dq.alerts")
    runs = [result.run_id]
    warnings_before = [a[2] for a in alerts_of(pg_dsn) if a[0] == "rule_warning"]
    assert len(warnings_before) == len(set(warnings_before))
    # 2. the command line: a backfill of the day, run by the daemon it starts
    out = cli("backfill", "--start", DAY.isoformat(), env=home, ok=False)
    told = re.search(
        r"^run (\S+) failed: (.*)\nfailure alert written to dq.alerts$", out.stderr, re.M
    )
    assert out.returncode == 1 and told, out.stderr[-3000:]
    assert "rows_accounted_for" in told.group(2)
    assert f"failed days: {DAY}. " in out.stderr
    assert re.search(rf"^  {DAY}  FAILED staged/transactions rows_accounted_for", out.stdout, re.M)
    runs.append(told.group(1))
    warnings = [a[2] for a in alerts_of(pg_dsn) if a[0] == "rule_warning"]
    assert sorted(warnings) == sorted(warnings_before)
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
