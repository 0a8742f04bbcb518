"""The landing sensor and the daily schedule, evaluated with Dagster's test contexts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from bank_assets.defs.automation import daily_schedule, landing_sensor
from bank_assets.io.lake import manifest_path
from bank_assets.resources import LakeResource

D1, D2, D3 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)


def land(lake, day: date, content: dict | None = None) -> None:
    """A landing day is complete when its manifest is there."""
    body = content or {"day": day.isoformat(), "tables": {}}
    lake.write_bytes(manifest_path(day), json.dumps(body).encode())


@pytest.fixture()
def tick(local_lake):
    state = {"cursor": None}

    def run() -> dg.SensorResult:
        context = dg.build_sensor_context(
            cursor=state["cursor"], resources={"lake": LakeResource(url=local_lake.config.url)}
        )
        result = landing_sensor(context)
        state["cursor"] = result.cursor
        return result

    return run


def keys(result: dg.SensorResult) -> list[str]:
    return sorted(r.partition_key for r in result.run_requests or [])


def test_first_day_then_nothing_new(local_lake, tick):
    first = tick()
    assert not first.run_requests and "no new or changed" in first.skip_reason.skip_message
    land(local_lake, D1)
    result = tick()
    assert keys(result) == [D1.isoformat()]
    (request,) = result.run_requests
    assert request.run_key.startswith(f"{D1.isoformat()}:")
    assert D1.isoformat() in json.loads(result.cursor)["days"]
    again = tick()
    assert not again.run_requests
    assert again.skip_reason.skip_message == "no new or changed landing manifest"


def test_several_and_late_days_at_once(local_lake, tick):
    land(local_lake, D3)
    assert keys(tick()) == [D3.isoformat()]
    land(local_lake, D1)  # a late day
    land(local_lake, D2)
    assert keys(tick()) == [D1.isoformat(), D2.isoformat()]


def test_redelivered_day_runs_again_unchanged_one_never(local_lake, tick):
    land(local_lake, D1)
    first = tick().run_requests[0].run_key
    land(local_lake, D1)  # rewritten with the same bytes: new mtime, same content
    assert not tick().run_requests
    land(local_lake, D1, {"day": D1.isoformat(), "tables": {"transactions": {"rows": 5}}})
    (request,) = tick().run_requests
    assert request.partition_key == D1.isoformat() and request.run_key != first


def test_day_without_manifest_or_partition_is_not_requested(local_lake, tick):
    local_lake.write_bytes("landing/transactions/year=2026/month=11/day=02/part-00000.csv", b"x\n")
    assert not tick().run_requests
    future = datetime.now(UTC).date() + timedelta(days=3)
    land(local_lake, future)
    result = tick()
    assert not result.run_requests
    assert f"not partitions: {future.isoformat()} (not over yet" in result.skip_reason.skip_message
    assert future.isoformat() not in json.loads(result.cursor)["days"]


def test_a_bad_manifest_is_named_and_the_other_days_still_run(local_lake, tick):
    local_lake.write_bytes(manifest_path(D1), b'{"day": "2026-11-02", "tables": {')  # cut
    local_lake.write_bytes("landing/manifests/notes.json", b"{}")
    land(local_lake, D2)
    result = tick()
    assert keys(result) == [D2.isoformat()]  # the good day is requested
    assert D1.isoformat() not in json.loads(result.cursor)["days"]
    again = tick()  # only the bad ones left: the tick says which file is bad and why
    assert not again.run_requests
    message = again.skip_reason.skip_message
    assert f"{manifest_path(D1)}: line 1 column 34: not valid JSON" in message
    assert "re-deliver the manifest" in message
    assert "landing/manifests/notes.json: not named after a day" in message
    land(local_lake, D1)  # redelivered: now it runs
    assert keys(tick()) == [D1.isoformat()]


def test_schedule_runs_yesterday_at_eight_paris_time():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime.fromisoformat("2026-11-21T08:00:00+01:00")
    )
    request = daily_schedule(context)
    assert request.partition_key == "2026-11-20"
    assert daily_schedule.cron_schedule == "0 8 * * *"
    assert daily_schedule.execution_timezone == "Europe/Paris"
    assert daily_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert landing_sensor.default_status == dg.DefaultSensorStatus.RUNNING
