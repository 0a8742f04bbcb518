"""The alert sensors: every failed run, its failed blocking checks, and every late day of a
warehouse fact (a failed freshness check) reach someone."""

import json

import dagster as dg

from bank_assets.builders.alerts import alert_failed_run
from bank_assets.defs.freshness import CHECK_KEYS, expected_day
from bank_assets.io.alerts import Alert, raise_alert
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


@dg.sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description=(
        "Writes an alert when a warehouse fact's freshness check fails (yesterday's partition "
        "not loaded by 09:00 Europe/Paris, defs/freshness.py): one per fact and day, updated "
        "by a later failing evaluation."
    ),
)
def freshness_alerts(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, alerts: AlertsResource
) -> dg.SkipReason:
    # Cursor: {check: id of the last evaluation record handled}; each evaluation is read once.
    handled = json.loads(context.cursor or "{}")
    summaries = context.instance.event_log_storage.get_asset_check_summary_records(CHECK_KEYS)
    late = []
    for key, summary in sorted(summaries.items(), key=lambda i: i[0].to_user_string()):
        record = summary.last_completed_check_execution_record
        name = key.to_user_string()
        if record is None or record.event is None or record.id <= handled.get(name, 0):
            continue
        evaluation = record.event.asset_check_evaluation
        if not evaluation.passed:
            day, asset = expected_day(evaluation), key.asset_key.to_user_string()
            late.append(f"{asset} {day}")
            raise_alert(
                warehouse.warehouse,
                Alert(
                    kind="freshness",
                    severity="error",
                    message=f"{asset} is late: its partition {day} was expected by 09:00 "
                    f"Europe/Paris and is not loaded: {evaluation.description}",
                    run_id=record.run_id,
                    partition_key=day,
                    details={"check": name},
                    subject=f"{name}:{day}",
                ),
                alerts.webhook,
            )
        handled[name] = record.id
        context.update_cursor(json.dumps(handled))  # after each alert: none is sent twice
    return dg.SkipReason(f"late: {', '.join(late)}" if late else "no new late partition")
