"""Failure alerts: a failed run, and the blocking checks that failed in it, reach someone.

Each becomes a row in dq.alerts (PostgreSQL) and, when a webhook URL is configured
(BANK_ASSETS_ALERT_WEBHOOK), a short JSON message posted to it (see lib/alerts.py).
"""

import dagster as dg

from bank_assets.lib.alerts import Alert, raise_alert
from bank_assets.resources import Settings, WarehouseResource


class AlertsResource(dg.ConfigurableResource):
    """Where alerts go besides dq.alerts. `webhook_url` overrides BANK_ASSETS_ALERT_WEBHOOK."""

    webhook_url: str | None = None

    @property
    def webhook(self) -> str | None:
        return self.webhook_url or Settings.from_env().alert_webhook


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


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=True,
    description="Writes an alert for every failed run, and one for its failed blocking checks.",
)
def failure_alerts(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, alerts: AlertsResource
) -> None:
    run = context.dagster_run
    partition = run.tags.get("dagster/partition") or run.tags.get(
        "dagster/asset_partition_range_start"
    )
    common = {"run_id": run.run_id, "job_name": run.job_name, "partition_key": partition}
    failed_steps = [e.step_key for e in context.get_step_failure_events()]
    raise_alert(
        warehouse.warehouse,
        Alert(
            kind="run_failure",
            severity="error",
            message=f"run of {run.job_name} for {partition or 'no partition'} failed: "
            f"{context.failure_event.message}",
            details={"failed_steps": failed_steps},
            **common,
        ),
        alerts.webhook,
    )
    checks = failed_blocking_checks(context.instance, run.run_id)
    if checks:
        names = ", ".join(f"{c['asset']}:{c['check']}" for c in checks)
        raise_alert(
            warehouse.warehouse,
            Alert(
                kind="check_failure",
                severity="fatal",
                message=f"blocking checks failed, downstream assets were not built: {names}",
                details={"checks": checks},
                **common,
            ),
            alerts.webhook,
        )
