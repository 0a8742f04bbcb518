"""Failure alerts: a failed run and its failed blocking checks become rows in dq.alerts and
JSON messages to a webhook (a real HTTP server on loopback)."""

from __future__ import annotations

import dagster as dg
import pytest

from bank_assets.defs.alerts import failure_alerts
from bank_assets.io.alerts import AlertDeliveryError
from bank_assets.resources import AlertsResource, WarehouseResource
from bank_assets_tests.builders import query


@dg.asset
def ledger():
    return 1


@dg.asset_check(asset=ledger, blocking=True, description="always fails, for the test")
def ledger_balances():
    return dg.AssetCheckResult(passed=False, description="balance chain broken")


@dg.asset(deps=[ledger])
def report():
    return 2


def failed_run(instance):
    job = dg.Definitions(
        assets=[ledger, report], asset_checks=[ledger_balances]
    ).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    return run, failure


def evaluate(instance, run, failure, pg_dsn, url):
    # entered, as the daemon does: the warehouse resource is a context manager (day locks)
    with dg.build_run_status_sensor_context(
        sensor_name="failure_alerts",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
        resources={
            "warehouse": WarehouseResource(dsn=pg_dsn),
            "alerts": AlertsResource(webhook_url=url),
        },
    ) as context:
        failure_alerts(context.for_run_failure())


def test_failed_run_and_blocking_check_raise_alerts_once(pg_dsn, webhook):
    url, received = webhook
    with dg.DagsterInstance.ephemeral() as instance:
        run, failure = failed_run(instance)
        evaluate(instance, run, failure, pg_dsn, url)
        evaluate(instance, run, failure, pg_dsn, url)  # the same run again: no duplicates
    rows = query(
        pg_dsn, "select kind, severity, run_id, message, details from dq.alerts order by alert_id"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("run_failure", "error", run.run_id),
        ("check_failure", "fatal", run.run_id),
    ]
    assert "ledger:ledger_balances" in rows[1][3]
    assert rows[1][4]["checks"][0]["description"] == "balance chain broken"
    assert [m["kind"] for m in received] == ["run_failure", "check_failure"]
    assert received[0]["source"] == "bank_assets" and received[0]["run_id"] == run.run_id


def test_unreachable_webhook_keeps_the_alert_and_says_so(pg_dsn):
    with dg.DagsterInstance.ephemeral() as instance:
        run, failure = failed_run(instance)
        with pytest.raises(AlertDeliveryError, match=r"alert webhook http://127\.0\.0\.1:9/"):
            evaluate(instance, run, failure, pg_dsn, "http://127.0.0.1:9/")
    assert query(pg_dsn, "select count(*) from dq.alerts") == [(1,)]
