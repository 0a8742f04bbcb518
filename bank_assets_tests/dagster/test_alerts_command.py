"""`bank-assets alerts`: what a failed run wrote to dq.alerts, newest first, with the day it is
about, its run and whether the webhook got it (no Spark: a run refused by a day lock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from bank_assets_tests.conftest import DAY


def alerts(dsn: str, analyst_dsn: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BANK_ASSETS_PG_DSN": dsn, "BANK_ASSETS_ANALYST_DSN": analyst_dsn}
    return subprocess.run(
        [sys.executable, "-m", "bank_assets.cli", "alerts", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_alerts_lists_what_a_failed_run_wrote(pg_dsn, analyst_dsn, webhook):
    import dagster as dg

    from bank_assets.builders.alerts import alert_failed_run
    from bank_assets.defs.reference import assets as reference_assets
    from bank_assets.io.alerts import Alert, AlertDeliveryError, raise_alert
    from bank_assets.io.warehouse.day_locks import hold_days
    from bank_assets.io.warehouse.loader import Warehouse
    from bank_assets.resources import WarehouseResource

    url, received = webhook
    warehouse = Warehouse(pg_dsn)
    # a run of the day that another run holds: it fails, and alerts as every failed run does
    with dg.DagsterInstance.ephemeral() as instance, hold_days(warehouse, [DAY], "the-other"):
        result = dg.materialize(
            reference_assets,
            partition_key=DAY.isoformat(),
            resources={"warehouse": WarehouseResource(dsn=pg_dsn)},
            instance=instance,
            raise_on_error=False,
        )
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        alert_failed_run(instance, run, "the day is held", ["reference"], warehouse, url)
    # a rule warning of the next day whose webhook is unreachable, one with no webhook
    later = (DAY + timedelta(days=1)).isoformat()
    warning = Alert("rule_warning", "warn", "2 row(s) break x", subject=f"t:x:{later}")
    with pytest.raises(AlertDeliveryError):
        raise_alert(warehouse, warning, "http://127.0.0.1:9/unreachable")
    raise_alert(warehouse, Alert("rule_warning", "warn", "quiet", subject=f"t:y:{DAY}"))

    out = alerts(pg_dsn, analyst_dsn, "--json")
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert [(a["kind"], a["day"], a["webhook"]) for a in listed] == [
        ("rule_warning", DAY.isoformat(), "no webhook"),
        ("rule_warning", later, "failed"),
        ("run_failure", DAY.isoformat(), "delivered"),
    ]
    failure = listed[-1]
    assert failure["run_id"] == result.run_id and failure["severity"] == "error"
    assert failure["message"] == f"run of {run.job_name} for {DAY} failed: the day is held"
    assert [m["run_id"] for m in received] == [result.run_id]

    # one day's, as a table; a day without alerts says so
    text = alerts(pg_dsn, analyst_dsn, "--date", DAY.isoformat())
    assert text.returncode == 0 and text.stdout.startswith(f"alerts about {DAY}, newest first (2")
    assert result.run_id in text.stdout and later not in text.stdout
    none = alerts(pg_dsn, analyst_dsn, "--date", "2026-01-05")
    assert (none.returncode, none.stdout) == (0, "no alerts about 2026-01-05\n")
    assert alerts(pg_dsn, analyst_dsn, "--limit", "1").stdout.count("rule_warning") == 1
