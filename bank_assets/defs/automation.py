"""Automation: the landing sensor (on by default) and the 08:00 Europe/Paris schedule (off)."""

import hashlib
import json
from datetime import date, timedelta

import dagster as dg

from bank_assets.builders.partitions import partition_exists
from bank_assets.defs import jobs
from bank_assets.io.lake import ManifestError, parse_manifest
from bank_assets.resources import LakeResource
from bank_assets.settings import Settings


@dg.sensor(
    job=jobs.daily_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=(
        "Launches a run for each landing day whose manifest is new or changed (a manifest marks "
        "a day complete). Run key = day + manifest hash: a redelivered day runs again, an "
        "unchanged one never does. A manifest that is not valid JSON is named in the tick "
        "(and read again each tick until redelivered); the other days go on. Reads only the "
        "manifests; never starts Spark."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
    if Settings.from_env().backfill_daemon:  # cursor kept: the deployment's daemon goes on
        return dg.SensorResult(skip_reason="a daemon started for a CLI backfill only")
    # Cursor: {"days": {day: {"mtime": ns, "size": bytes, "sha256": hex}}}; a manifest is read
    # again only when its listing (time, size) changes.
    seen = json.loads(context.cursor or "{}").get("days", {})
    updated = dict(seen)
    requests, waiting, bad = [], [], []
    for info in lake.lake.files("landing/manifests", ".json"):
        try:
            day = date.fromisoformat(info.base_name.removesuffix(".json"))
        except ValueError:
            bad.append(
                f"{lake.lake.relative(info.path)}: not named after a day (YYYY-MM-DD.json): "
                "rename or remove the file"
            )
            context.log.error(bad[-1])
            continue
        key = day.isoformat()
        listing = {"mtime": info.mtime_ns, "size": info.size}
        previous = seen.get(key, {})
        if {k: previous.get(k) for k in listing} == listing:
            continue
        if not partition_exists(day):
            waiting.append(key)  # not a partition yet (future day); looked at again next tick
            continue
        with lake.lake.fs.open_input_stream(info.path) as f:
            data = f.read()
        try:
            parse_manifest(lake.lake.relative(info.path), data)
        except ManifestError as e:  # not recorded in the cursor: looked at again next tick
            context.log.error(str(e))
            bad.append(str(e))
            continue
        digest = hashlib.sha256(data).hexdigest()
        updated[key] = {**listing, "sha256": digest}
        if previous.get("sha256") == digest:
            continue  # rewritten with the same content
        requests.append(
            dg.RunRequest(
                partition_key=key,
                run_key=f"{key}:{digest[:16]}",
                tags={"bank_assets/manifest_sha256": digest},
            )
        )
    cursor = json.dumps({"days": dict(sorted(updated.items()))})
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    reason = "no new or changed landing manifest"
    if waiting:
        reason += f"; waiting for the partitions of {', '.join(waiting)} to exist"
    if bad:
        reason += f"; {len(bad)} manifest(s) cannot be used: {'; '.join(bad)}"
    return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)


@dg.schedule(
    job=jobs.daily_job,
    cron_schedule="0 8 * * *",
    execution_timezone="Europe/Paris",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Yesterday's partition at 08:00 Paris time: for sites without the sensor.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = context.scheduled_execution_time.date() - timedelta(days=1)
    return dg.RunRequest(partition_key=day.isoformat(), run_key=f"schedule:{day.isoformat()}")
