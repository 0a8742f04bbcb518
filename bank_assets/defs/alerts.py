"""The alert sensors: every failed run, its failed blocking checks, and every late day of a
warehouse fact (a failed freshness check) reach someone."""

import json

import dagster as dg

from bank_assets.builders.alerts import alert_failed_run
from bank_assets.defs.freshness import CHECK_KEYS, DEADLINE, expected_day
from bank_assets.io.alerts import Alert, raise_alert
from bank_assets.resources import AlertsResource, WarehouseResource
from bank_assets.settings import Settings


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=Settings.from_env().sensor_interval_seconds,
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
        "Writes an alert when warehouse facts' freshness checks fail (yesterday's partition not "
        f"loaded by {DEADLINE}, defs/freshness.py): one per day, naming the late facts, "
        "updated by a later failing evaluation."
    ),
)
def freshness_alerts(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, alerts: AlertsResource
) -> dg.SkipReason:
    if Settings.from_env().backfill_daemon:  # cursor kept: the deployment's daemon goes on
        return dg.SkipReason("a daemon started for a CLI backfill only")
    # Cursor: {check: id of the last evaluation record handled}; each evaluation is read once.
    handled = json.loads(context.cursor or "{}")
    summaries = context.instance.event_log_storage.get_asset_check_summary_records(CHECK_KEYS)
    late: dict[str, dict] = {}  # day -> its late facts, from each check's latest evaluation
    for key, summary in sorted(summaries.items(), key=lambda i: i[0].to_user_string()):
        record = summary.last_completed_check_execution_record
        if record is None or record.event is None:
            continue
        evaluation = record.event.asset_check_evaluation
        new = record.id > handled.get(key.to_user_string(), 0)
        handled[key.to_user_string()] = record.id
        if not evaluation.passed:
            entry = late.setdefault(expected_day(evaluation), {"facts": [], "runs": [], "new": new})
            entry["facts"].append(key.asset_key.to_user_string())
            entry["runs"].append((record.id, record.run_id))
            entry["new"] |= new
    for day, found in sorted(late.items()):
        if found["new"]:
            raise_alert(
                warehouse.warehouse,
                Alert(
                    kind="freshness",
                    severity="error",
                    message=f"late: the {day} partition of {', '.join(found['facts'])} was "
                    f"expected by {DEADLINE} and is not loaded",
                    run_id=max(found["runs"])[1],  # the latest evaluation's run
                    partition_key=day,
                    details={"late": found["facts"]},
                    subject=f"freshness_check:{day}",
                ),
                alerts.webhook,
            )
    context.update_cursor(json.dumps(handled))
    if not any(found["new"] for found in late.values()):
        return dg.SkipReason("no new late partition")
    return dg.SkipReason(f"late: {', '.join(d for d, f in late.items() if f['new'])}")
