"""Automation: the landing sensor (on by default) and the 08:00 Europe/Paris schedule (off)."""

import hashlib
import json
from datetime import date, timedelta

import dagster as dg

from bank_assets.builders.partitions import not_a_partition
from bank_assets.defs import jobs
from bank_assets.io.lake import ManifestError, parse_manifest
from bank_assets.io.landing import listed_rows
from bank_assets.model.sources import SOURCES
from bank_assets.resources import LakeResource
from bank_assets.settings import Settings


@dg.sensor(
    job=jobs.daily_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=Settings.from_env().sensor_interval_seconds,
    description=(
        "Launches a run for each landing day whose manifest is new or changed (a manifest marks "
        "a day complete), and records when it landed: an observation of each landing/<source> "
        "asset for the day (rows per file from the manifest, the manifest's sha256, its landed "
        "time). Run key = day + manifest hash: a redelivered day runs again, an unchanged one "
        "never does. A day already built since its manifest was written (every asset of the "
        "job without a downstream asset has a materialization of the day newer than the "
        "manifest's modification time: `make demo`, `bank-assets backfill`, a UI launch) is "
        "recorded as done, not run again. A manifest that is not valid JSON is named in the "
        "tick (and read again each tick until redelivered); the other days go on. Reads only "
        "the manifests and Dagster's event log; never starts Spark."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
    if Settings.from_env().backfill_daemon:  # cursor kept: the deployment's daemon goes on
        return dg.SensorResult(skip_reason="a daemon started for a CLI backfill only")
    # Cursor: {"days": {day: {"mtime": ns, "size": bytes, "sha256": hex}}}; a manifest is read
    # again only when its listing (time, size) changes.
    seen = json.loads(context.cursor or "{}").get("days", {})
    updated = dict(seen)
    requests, observations, built, waiting, bad = [], [], [], [], []
    for info in lake.lake.files("landing/manifests", ".json"):
        relative = lake.lake.relative(info.path)
        try:
            day = date.fromisoformat(info.base_name.removesuffix(".json"))
        except ValueError:
            bad.append(
                f"{relative}: not named after a day (YYYY-MM-DD.json): rename or remove the file"
            )
            context.log.error(bad[-1])
            continue
        key = day.isoformat()
        listing = {"mtime": info.mtime_ns, "size": info.size}
        previous = seen.get(key, {})
        if {k: previous.get(k) for k in listing} == listing:
            continue
        if reason := not_a_partition(day):
            waiting.append(f"{key} ({reason})")  # looked at again next tick
            continue
        with lake.lake.fs.open_input_stream(info.path) as f:
            data = f.read()
        try:
            manifest = parse_manifest(relative, data)
        except ManifestError as e:  # not recorded in the cursor: looked at again next tick
            context.log.error(str(e))
            bad.append(str(e))
            continue
        digest = hashlib.sha256(data).hexdigest()
        updated[key] = {**listing, "sha256": digest}
        if previous.get("sha256") == digest:
            continue  # rewritten with the same content
        observations += landing_observations(key, manifest, relative, digest, info.mtime_ns)
        if built_since(context, key, info.mtime_ns / 1e9):
            built.append(key)
            continue
        requests.append(
            dg.RunRequest(
                partition_key=key,
                run_key=f"{key}:{digest[:16]}",
                tags={"bank_assets/manifest_sha256": digest},
            )
        )
    cursor = json.dumps({"days": dict(sorted(updated.items()))})
    if built:
        context.log.info(f"already built since their manifest landed, not run: {', '.join(built)}")
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor, asset_events=observations)
    reason = "no new or changed landing manifest"
    if built:
        reason += f"; already built since their manifest landed: {', '.join(built)}"
    if waiting:
        reason += f"; not partitions: {', '.join(waiting)}"
    if bad:
        reason += f"; {len(bad)} manifest(s) cannot be used: {'; '.join(bad)}"
    return dg.SensorResult(
        skip_reason=dg.SkipReason(reason), cursor=cursor, asset_events=observations
    )


def landing_observations(
    day: str, manifest: dict, relative: str, digest: str, mtime_ns: int
) -> list[dg.AssetObservation]:
    """One observation per landed source of the day: what its manifest says landed, and when."""
    observations = []
    for name, entry in sorted(manifest["tables"].items()):
        if name not in SOURCES or not isinstance(entry, dict):
            continue  # an unknown or malformed entry: the raw asset names it when it runs
        files = entry.get("files") if isinstance(entry.get("files"), list) else []
        by_file = listed_rows({**entry, "files": [f for f in files if isinstance(f, dict)]})
        metadata = {
            "manifest": dg.MetadataValue.path(relative),
            "manifest_sha256": digest,
            "landed_at": dg.MetadataValue.timestamp(mtime_ns / 1e9),
            "files": dg.MetadataValue.md(
                "| file | rows |\n|---|---:|\n"
                + "".join(f"| {path} | {rows} |\n" for path, rows in sorted(by_file.items()))
            ),
        }
        if isinstance(entry.get("rows"), int):
            metadata["dagster/partition_row_count"] = dg.MetadataValue.int(entry["rows"])
        observations.append(
            dg.AssetObservation(asset_key=["landing", name], partition=day, metadata=metadata)
        )
    return observations


def built_since(context: dg.SensorEvaluationContext, day: str, since: float) -> bool:
    """Whether every asset of the job without a downstream asset (the warehouse tables the day
    ends in) has a materialization of `day` newer than `since` (a POSIX time)."""
    if context.repository_def is None:  # evaluated without definitions (a unit test)
        return False
    graph = context.repository_def.asset_graph
    ends = [key for key in graph.materializable_asset_keys if not graph.get(key).child_keys]
    for key in ends:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
        ).records
        if not records or records[0].timestamp <= since:
            return False
    return bool(ends)


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
