"""The failure-alerts sensor: every failed run, and its failed blocking checks, reach someone."""

import dagster as dg

from bank_assets.builders.alerts import alert_failed_run
from bank_assets.resources import AlertsResource, WarehouseResource


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=True,
    description="Writes an alert for every failed run, and one per failed blocking check.",
)
def failure_alerts(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, alerts: AlertsResource
) -> None:
    alert_failed_run(
        context.instance,
        context.dagster_run,
        context.failure_event.message,
        [e.step_key for e in context.get_step_failure_events()],
        warehouse.warehouse,
        alerts.webhook,
    )
