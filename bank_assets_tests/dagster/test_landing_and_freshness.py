"""Landing as observed assets, the landing sensor's first tick after days built elsewhere, the
first business day, and the freshness of the warehouse facts with its alert: evaluated against
a real Dagster instance (materializations reported to it), no Spark."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from bank_assets.builders.partitions import START_DATE, daily
from bank_assets.defs.alerts import freshness_alerts
from bank_assets.defs.automation import landing_sensor
from bank_assets.defs.freshness import CHECK_KEYS, FACTS, freshness_checks
from bank_assets.io.lake import manifest_path
from bank_assets.model.sources import SOURCES
from bank_assets.resources import AlertsResource, LakeResource, WarehouseResource
from bank_assets.settings import FIRST_DAY, ConfigurationError, first_day
from bank_assets_tests.builders import definitions, query

D1, D2 = date(2026, 11, 18), date(2026, 11, 19)


def manifest(day: date, rows: int = 3) -> dict:
    part = f"landing/transactions/year={day:%Y}/month={day:%m}/day={day:%d}"
    return {
        "day": day.isoformat(),
        "tables": {
            "transactions": {
                "rows": rows,
                "files": [
                    {"path": f"{part}/part-00000.csv", "rows": rows - 1},
                    {"path": f"{part}/part-00001.csv", "rows": 1},
                ],
            },
            "products": {"rows": 12, "files": [{"path": "landing/products/p.jsonl"}]},
        },
    }


def land(lake, day: date, rows: int = 3) -> bytes:
    body = json.dumps(manifest(day, rows)).encode()
    lake.write_bytes(manifest_path(day), body)
    return body


@pytest.fixture()
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield instance


@pytest.fixture()
def tick(local_lake, instance):
    """Evaluates the landing sensor as the daemon does: with the definitions and the instance."""
    state = {"cursor": None}

    def run() -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=state["cursor"],
            definitions=definitions(),
            resources={"lake": LakeResource(url=local_lake.config.url)},
        )
        result = landing_sensor(context)
        state["cursor"] = result.cursor
        return result

    return run


def built(instance, day: date, skip: tuple[str, ...] = ()) -> None:
    """A run of the day outside the sensor (the demo, a CLI backfill): every asset materialized."""
    for key in definitions().resolve_asset_graph().materializable_asset_keys:
        if key.to_user_string() not in skip:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=key, partition=day.isoformat())
            )


def requested(result: dg.SensorResult) -> list[str]:
    return sorted(r.partition_key for r in result.run_requests or [])


def test_landing_assets_are_external_daily_and_upstream_of_raw():
    graph = definitions().resolve_asset_graph()
    for name, source in SOURCES.items():
        node = graph.get(dg.AssetKey(["landing", name]))
        assert not node.is_materializable and node.is_external, name
        assert node.group_name == "landing" and node.partitions_def == daily
        assert node.kinds == {"s3", source.file_format}
        assert "delivered by the " in node.description and f"landing/{name}/" in node.description
        assert dg.AssetKey(["landing", name]) in graph.get(dg.AssetKey(["raw", name])).parent_keys


def test_each_new_day_is_observed_with_its_manifest_rows_hash_and_landed_time(
    local_lake, instance, tick
):
    body = land(local_lake, D1)
    result = tick()
    assert requested(result) == [D1.isoformat()]
    by_key = {e.asset_key.to_user_string(): e for e in result.asset_events}
    assert set(by_key) == {"landing/transactions", "landing/products"}
    tx = by_key["landing/transactions"]
    assert isinstance(tx, dg.AssetObservation) and tx.partition == D1.isoformat()
    assert tx.metadata["dagster/partition_row_count"].value == 3
    assert tx.metadata["manifest_sha256"].value == hashlib.sha256(body).hexdigest()
    assert tx.metadata["manifest"].value == manifest_path(D1)
    files = tx.metadata["files"].value
    assert "part-00000.csv | 2 |" in files and "part-00001.csv | 1 |" in files
    mtime = local_lake.fs.get_file_info(local_lake.abspath(manifest_path(D1))).mtime_ns / 1e9
    assert tx.metadata["landed_at"].value == pytest.approx(mtime)
    products = by_key["landing/products"].metadata  # one file without a count: the table's rows
    assert "p.jsonl | 12 |" in products["files"].value
    for event in result.asset_events:  # what the sensor daemon does with them
        instance.report_runless_asset_event(event)
    (record,) = instance.fetch_observations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(["landing", "transactions"]), asset_partitions=[D1.isoformat()]
        ),
        limit=5,
    ).records
    stored = record.asset_observation
    assert stored.metadata["manifest_sha256"].value == hashlib.sha256(body).hexdigest()
    assert stored.metadata["dagster/partition_row_count"].value == 3

    again = tick()  # nothing new: no second observation
    assert not again.asset_events and not again.run_requests
    land(local_lake, D2, rows=5)
    new = tick()
    assert {e.partition for e in new.asset_events} == {D2.isoformat()}
    assert requested(new) == [D2.isoformat()]


def test_first_tick_does_not_rerun_a_day_built_since_its_manifest(local_lake, instance, tick):
    land(local_lake, D1)
    land(local_lake, D2)
    built(instance, D1)  # the demo built D1 after it landed
    # D2's run stopped short: a fatal check on the postings held back their facts
    built(instance, D2, skip=("warehouse/fact_transactions", "warehouse/fact_fraudes"))
    first = tick()  # the sensor's first tick: an empty cursor
    assert requested(first) == [D2.isoformat()]
    assert D1.isoformat() in json.loads(first.cursor)["days"]  # recorded as done
    assert {e.partition for e in first.asset_events} == {D1.isoformat(), D2.isoformat()}
    assert not tick().run_requests

    land(local_lake, D1, rows=4)  # redelivered after the build: the build is older, it runs
    assert requested(tick()) == [D1.isoformat()]


def test_first_tick_reports_days_already_built(local_lake, instance, tick):
    land(local_lake, D1)
    built(instance, D1)
    result = tick()
    assert not result.run_requests
    assert (
        f"already built since their manifest landed: {D1.isoformat()}"
        in result.skip_reason.skip_message
    )


def test_partitions_start_at_the_first_business_day(local_lake, tick):
    assert first_day({}) == FIRST_DAY == date(2026, 11, 1)
    assert START_DATE == daily.start.date().isoformat() == FIRST_DAY.isoformat()
    assert first_day({"BANK_ASSETS_FIRST_DAY": "2026-06-01"}) == date(2026, 6, 1)
    with pytest.raises(ConfigurationError, match="BANK_ASSETS_FIRST_DAY='1/6/2026' is not a day"):
        first_day({"BANK_ASSETS_FIRST_DAY": "1/6/2026"})
    # a landed day before the first business day is named, never requested
    land(local_lake, date(2026, 10, 31))
    result = tick()
    assert not result.run_requests and not result.asset_events
    assert "2026-10-31 (before the first business day 2026-11-01" in (
        result.skip_reason.skip_message
    )
    # the setting reaches the definitions (a new process reads it when they load)
    env = {**os.environ, "BANK_ASSETS_FIRST_DAY": "2026-06-01"}
    code = "from bank_assets.builders.partitions import daily; print(daily.start.date())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "2026-06-01"


PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 11, 20)


@functools.cache
def freshness_job() -> dg.JobDefinition:
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*CHECK_KEYS))
    return dg.Definitions.merge(definitions(), dg.Definitions(jobs=[job])).resolve_job_def(
        "freshness"
    )


def freshness(instance, at: datetime) -> dict[str, dg.AssetCheckEvaluation]:
    """The facts' freshness checks, run at `at` (Dagster's clock) as their sensor's run does."""
    with freeze_time(at):
        result = freshness_job().execute_in_process(instance=instance)
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def alerts_tick(instance, pg_dsn, url, cursor=None) -> str | None:
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "warehouse": WarehouseResource(dsn=pg_dsn),
            "alerts": AlertsResource(webhook_url=url),
        },
    ) as context:
        freshness_alerts(context)
        return context.cursor


def test_freshness_fails_for_a_missing_yesterday_alerts_once_and_passes_once_loaded(
    instance, pg_dsn, webhook
):
    url, received = webhook
    facts = {k.to_user_string() for k in FACTS}
    assert "warehouse/fact_transactions" in facts and len(facts) == 5
    # before 09:00 Paris the day before yesterday is the one expected
    early = freshness(instance, datetime(2026, 11, 21, 8, 59, tzinfo=PARIS))
    assert "partition 2026-11-19" in early["warehouse/fact_transactions"].description

    late = freshness(instance, datetime(2026, 11, 21, 9, 30, tzinfo=PARIS))
    assert set(late) == facts
    assert all(not e.passed and e.severity == dg.AssetCheckSeverity.ERROR for e in late.values())
    assert f"partition {DAY.isoformat()}" in late["warehouse/fact_transactions"].description

    cursor = alerts_tick(instance, pg_dsn, url)
    alerts = "select subject, severity, partition_key, run_id, message from dq.alerts"
    ((subject, severity, partition, run_id, message),) = query(pg_dsn, alerts)
    assert (subject, severity, partition) == (f"freshness_check:{DAY}", "error", DAY.isoformat())
    assert f"the {DAY} partition of " in message and "expected by 09:00 Europe/Paris" in message
    assert all(fact in message for fact in facts)
    assert [m["kind"] for m in received] == ["freshness"]  # one alert for the day
    assert alerts_tick(instance, pg_dsn, url, cursor) == cursor  # nothing new: no alert
    assert len(received) == 1

    # evaluated again (a later run), still late: the day's alert is updated, not repeated
    freshness(instance, datetime(2026, 11, 21, 10, 0, tzinfo=PARIS))
    cursor = alerts_tick(instance, pg_dsn, url, cursor)
    ((_, _, _, again, _),) = query(pg_dsn, alerts)
    assert again != run_id and len(received) == 2

    for key in FACTS:  # the day is loaded
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=key, partition=DAY.isoformat())
        )
    fresh = freshness(instance, datetime(2026, 11, 21, 10, 30, tzinfo=PARIS))
    assert all(e.passed for e in fresh.values())
    alerts_tick(instance, pg_dsn, url, cursor)
    assert len(received) == 2 and len(query(pg_dsn, alerts)) == 1


def test_the_freshness_deadline_is_nine_in_paris():
    (checks,) = freshness_checks
    for spec in checks.check_specs:
        params = spec.metadata["dagster/freshness_params"].value
        assert params == {"deadline_cron": "0 9 * * *", "timezone": "Europe/Paris"}
