"""A running deployment: `bank-assets dev` (webserver + daemon) in a subprocess.

Landing a day makes it reach the warehouse with no further action (landing sensor -> queued run
-> daemon), and a 2-day backfill launched through the webserver's GraphQL API completes as one
run, whose asset check results read back through the same API. Real S3 endpoint, real
PostgreSQL (also the Dagster instance storage), real Spark.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from dagster_graphql import DagsterGraphQLClient

from bank_assets_tests.builders import query
from bank_assets_tests.conftest import DAY, _free_port

pytestmark = pytest.mark.slow
TIMEOUT = 600


def wait_for(what: str, check, timeout: float = TIMEOUT, every: float = 3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def fact_rows(dsn: str, day) -> int:
    if query(dsn, "select to_regclass('dw.fact_transactions')") == [(None,)]:
        return 0
    return query(dsn, "select count(*) from dw.fact_transactions where batch_id = %s", (day,))[0][0]


@pytest.fixture()
def deployment(tmp_path, s3_env, s3_lake_url, pg_dsn, pg_data):
    from bank_assets.io.warehouse.embedded import embedded_postgres_dsn

    instance_dsn = embedded_postgres_dsn(pg_data, f"{pg_dsn.rsplit('/', 1)[1].split('?')[0]}_dg")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
        **s3_env,
        "BANK_ASSETS_HOME": str(tmp_path / "home"),
        "BANK_ASSETS_LAKE_URL": s3_lake_url,
        "BANK_ASSETS_PG_DSN": pg_dsn,
        "BANK_ASSETS_SPARK_MASTER": "local[2]",
        "BANK_ASSETS_SPARK_DRIVER_MEMORY": "2g",
        "DAGSTER_PG_URL": instance_dsn.replace("postgresql://", "postgresql+psycopg2://"),
    }
    log = open(tmp_path / "dev.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "bank_assets.cli", "dev", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = DagsterGraphQLClient("127.0.0.1", port_number=port)

    def ready():
        if server.poll() is not None:
            raise AssertionError((tmp_path / "dev.log").read_text()[-3000:])
        try:
            return client._execute("{ version }")
        except Exception:
            return None

    try:
        wait_for("the webserver", ready, timeout=180)
        yield client, env
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def simulate(env, day, days: int = 1) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "bank_assets.cli", "simulate", "--date", day.isoformat()),
            *("--days", str(days), "--transactions", "400"),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


SENSOR = """query { sensorOrError(sensorSelector: {repositoryName: "__repository__",
  repositoryLocationName: "bank_assets", sensorName: "landing_sensor"}) {
  ... on Sensor { id sensorState { status } } } }"""
STOP = "mutation($id: String) { stopSensor(id: $id) { __typename } }"
# what the UI's "Materialize all" selects: the built assets (not the observed landing)
ASSETS = "{ assetNodes { assetKey { path } isMaterializable } }"
BACKFILL = """mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) { __typename
    ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
STATUS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status runs { runId status } } } }"""
CHECKS = """query($key: AssetKeyInput!) { assetCheckExecutions(assetKey: $key,
  checkName: "rows_accounted_for", limit: 10) { runId status partition evaluation { success } } }"""
MATERIALIZATIONS = """query($keys: [String!]) { assetOrError(assetKey: {path: ["warehouse",
  "fact_transactions"]}) { ... on Asset { assetMaterializations(partitions: $keys) {
  partition metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }"""
# (the fact's rows per day: dagster/partition_row_count; in the table: dagster/row_count)


def test_landed_day_runs_by_itself_and_ui_backfill_is_one_run(deployment, pg_dsn):
    client, env = deployment
    sensor = client._execute(SENSOR)["sensorOrError"]
    assert sensor["sensorState"]["status"] == "RUNNING"  # on by default

    # 1. Land a day: the sensor launches its run; nobody clicks anything.
    simulate(env, DAY)
    rows = wait_for(f"day {DAY} in the warehouse", lambda: fact_rows(pg_dsn, DAY))
    assert rows > 350

    # 2. A 2-day backfill from the UI's API (sensor stopped so only the backfill runs).
    client._execute(STOP, {"id": sensor["id"]})
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1)]  # partitions exist up to yesterday
    simulate(env, days[0], days=2)
    nodes = client._execute(ASSETS)["assetNodes"]
    keys = [{"path": n["assetKey"]["path"]} for n in nodes if n["isMaterializable"]]
    launched = client._execute(
        BACKFILL,
        {"params": {"partitionNames": [d.isoformat() for d in days], "assetSelection": keys}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def finished():
        backfill = client._execute(STATUS, {"id": launched["backfillId"]})
        backfill = backfill["partitionBackfillOrError"]
        return backfill if backfill["status"].startswith(("COMPLETED", "FAILED")) else None

    backfill = wait_for("the backfill", finished)
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), backfill
    assert len(backfill["runs"]) == 1 and backfill["runs"][0]["status"] == "SUCCESS"
    counts = {d: fact_rows(pg_dsn, d) for d in days}
    assert all(n > 350 for n in counts.values())

    # 3. The asset check results of the backfill run, as the UI reads them.
    run_id = backfill["runs"][0]["runId"]
    for table in ("transactions", "clients", "accounts"):
        executions = client._execute(CHECKS, {"key": {"path": ["staged", table]}})
        mine = [e for e in executions["assetCheckExecutions"] if e["runId"] == run_id]
        # A range run records one evaluation per day, against the day's partition.
        assert sorted((e["partition"], e["status"], e["evaluation"]["success"]) for e in mine) == [
            (d.isoformat(), "SUCCEEDED", True) for d in days
        ]

    # 4. What the UI shows for those partitions agrees with the warehouse.
    asset = client._execute(MATERIALIZATIONS, {"keys": [d.isoformat() for d in days]})
    shown = asset["assetOrError"]["assetMaterializations"]
    assert shown
    for materialization in shown:
        entries = {e["label"]: e.get("intValue") for e in materialization["metadataEntries"]}
        # A range run records one materialization per partition, each with its day's rows.
        day = date.fromisoformat(materialization["partition"])
        assert entries["dagster/partition_row_count"] == counts[day]
        assert entries["dagster/row_count"] == rows + sum(counts.values())  # the whole table
