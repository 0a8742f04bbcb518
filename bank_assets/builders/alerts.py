"""Failure alerts: a failed run, and the blocking checks that failed in it, reach someone.

Daemon runs get them from the `failure_alerts` sensor, command-line runs (in process, no daemon
needed) from `bank-assets` itself; both call `alert_failed_run`.

Each becomes a row in dq.alerts (PostgreSQL) and, when a webhook URL is configured
(BANK_ASSETS_ALERT_WEBHOOK), a short JSON message posted to it (see bank_assets/io/alerts.py).
"""

import dagster as dg

from bank_assets.io.alerts import Alert, raise_alert
from bank_assets.io.warehouse.loader import Warehouse


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[dict]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.blocking:
            failed.append(
                {
                    "asset": evaluation.asset_key.to_user_string(),
                    "check": evaluation.check_name,
                    "partition": evaluation.partition,
                    "description": evaluation.description,
                }
            )
    return failed


def run_label(run: dg.DagsterRun) -> str | None:
    """The days of a run: its partition, or "start..end" for a range run, None for neither."""
    if partition := run.tags.get("dagster/partition"):
        return partition
    start = run.tags.get("dagster/asset_partition_range_start")
    end = run.tags.get("dagster/asset_partition_range_end")
    return f"{start}..{end}" if start and end and start != end else start


def alert_failed_run(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    message: str,
    failed_steps: list[str],
    warehouse: Warehouse,
    webhook: str | None,
) -> None:
    """The alerts of a failed run, however it ran (the daemon's sensor, `bank-assets` runs in
    process): one `run_failure` for the run, one `check_failure` per failed blocking check
    (recorded once per asset, check and day: a failing re-run updates it)."""
    partition = run.tags.get("dagster/partition") or run.tags.get(
        "dagster/asset_partition_range_start"
    )
    common = {"run_id": run.run_id, "job_name": run.job_name, "partition_key": partition}
    raise_alert(
        warehouse,
        Alert(
            kind="run_failure",
            severity="error",
            message=f"run of {run.job_name} for {run_label(run) or 'no partition'} failed: "
            f"{message}",
            details={"failed_steps": failed_steps},
            **common,
        ),
        webhook,
    )
    for check in failed_blocking_checks(instance, run.run_id):
        name = f"{check['asset']}:{check['check']}"
        day = check["partition"] or run_label(run) or ""
        raise_alert(
            warehouse,
            Alert(
                kind="check_failure",
                severity="fatal",
                message=f"blocking check {name} failed for {day or 'no partition'}, its "
                f"downstream assets were not built: {check['description']}",
                details={"checks": [check]},
                subject=f"{name}:{day}",
                **common,
            ),
            webhook,
        )
