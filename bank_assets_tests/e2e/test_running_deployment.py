"""A running deployment: `bank-assets dev` (webserver + daemon) in a subprocess.

Landing a day makes it reach the warehouse with no further action (landing sensor -> queued run
-> daemon). Then `bank-assets backfill` against the running deployment: its backfill is the
instance's, run by the deployment's daemon (the CLI starts none); a day failing a blocking check
fails the range (named, alerted once, not retried). A 2-day backfill launched through the
webserver's GraphQL API waits in the run queue behind it, completes as one run, and its asset
check results read back through the same API and in a browser; `--failed --no-wait` returns at
once and targets what the failed backfill left, its run taken up by the deployment. Real S3
endpoint, real PostgreSQL (also the Dagster instance storage), real Spark.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from dagster_graphql import DagsterGraphQLClient

from bank_assets.io.lake import Lake
from bank_assets.settings import Settings
from bank_assets_tests.builders import query, stop_group
from bank_assets_tests.conftest import DAY, _free_port
from bank_assets_tests.e2e import browser

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
        "BANK_ASSETS_SENSOR_INTERVAL_SECONDS": "5",  # the landed day's run starts within 5 s
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
        yield client, env, instance_dsn
    finally:
        stop_group(server, signal.SIGINT, timeout=60)
        log.close()


def simulate(env, day, days: int = 1, transactions: int = 400) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "bank_assets.cli", "simulate", "--date", day.isoformat()),
            *("--days", str(days), "--transactions", str(transactions)),
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


def test_landed_day_runs_by_itself_and_ui_backfill_is_one_run(deployment, pg_dsn, monkeypatch):
    from bank_assets.cli.backfill import asset_graph

    client, env, instance_dsn = deployment
    sensor = client._execute(SENSOR)["sensorOrError"]
    assert sensor["sensorState"]["status"] == "RUNNING"  # on by default

    # 1. Land a day: the sensor launches its run; nobody clicks anything.
    simulate(env, DAY)
    rows = wait_for(f"day {DAY} in the warehouse", lambda: fact_rows(pg_dsn, DAY))
    assert rows > 350

    # 2. Sensor stopped (only the backfills run). A 2-day range from the command line, through
    # the deployment's queue (its daemon: the CLI starts none), with a day failing a blocking
    # check; then a 2-day backfill from the UI's API, queued behind it.
    client._execute(STOP, {"id": sensor["id"]})
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1)]  # partitions exist up to yesterday
    # each day another size, so that a range total cannot pass for a day's count
    simulate(env, days[0], transactions=550)
    simulate(env, days[1], transactions=700)
    bad = [DAY - timedelta(days=4), DAY - timedelta(days=3)]
    simulate(env, bad[0], days=2, transactions=450)
    lake = Lake(Settings.from_env(env).lake_config)
    delivered = lake.read_manifest(bad[1])
    broken = json.loads(json.dumps(delivered))
    broken["tables"]["transactions"]["rows"] += 1  # one line announced, never delivered: fatal
    lake.write_bytes(f"landing/manifests/{bad[1]}.json", json.dumps(broken).encode())
    command = [sys.executable, "-m", "bank_assets.cli", "backfill"]
    ranged = subprocess.Popen(
        [*command, "--start", bad[0].isoformat(), "--end", bad[1].isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dsn = instance_dsn
    runs = """select r.run_id, r.status, t.value from runs r join run_tags t
      on t.run_id = r.run_id and t.key = 'dagster/backfill'"""
    wait_for("the command-line backfill's run", lambda: query(dsn, runs), every=1.0)

    nodes = client._execute(ASSETS)["assetNodes"]
    keys = [{"path": n["assetKey"]["path"]} for n in nodes if n["isMaterializable"]]
    launched = client._execute(
        BACKFILL,
        {"params": {"partitionNames": [d.isoformat() for d in days], "assetSelection": keys}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    ui_id = launched["backfillId"]
    most_started = 0

    def one_running_one_queued():
        nonlocal most_started
        rows = query(dsn, runs)
        statuses = {(status, backfill == ui_id) for _, status, backfill in rows}
        most_started = max(most_started, sum(status == "STARTED" for _, status, _ in rows))
        # both backfills have their run: the command line's runs, the UI's waits in the queue
        return {("STARTED", False), ("QUEUED", True)} <= statuses

    wait_for("one run started, the other queued", one_running_one_queued, every=1.0)
    stdout, stderr = ranged.communicate(timeout=TIMEOUT)
    assert most_started == 1
    assert ranged.returncode == 1, stderr[-3000:]
    assert "starting `dagster-daemon run`" not in stdout  # the deployment's daemon ran it
    assert f"failed days: {bad[1]}. Re-run them with `bank-assets backfill --failed`" in stderr
    assert re.search(rf"^  {bad[0]}  passed", stdout, re.M)
    assert re.search(rf"^  {bad[1]}  FAILED staged/transactions rows_accounted_for", stdout, re.M)
    assert "failure alert written to dq.alerts" in stderr
    ranged_id = re.search(r"^backfill (\w+) submitted: ", stdout, re.M).group(1)
    (run_id,) = [r for r, _, b in query(dsn, runs) if b == ranged_id]
    # alerted once (the deployment's failure sensor), never retried (no run has a parent run)
    alerts = "select kind, subject from dq.alerts where run_id = %s and kind <> 'rule_warning'"
    (check, check_subject), run_failure = sorted(query(pg_dsn, alerts, (run_id,)))
    assert check == "check_failure" and run_failure == ("run_failure", "")
    # the day, or the range ending with it where a check records one result for the range
    assert check_subject.startswith("staged/transactions:rows_accounted_for:")
    assert check_subject.endswith(bad[1].isoformat())
    retried = "select count(*) from run_tags where key = 'dagster/parent_run_id'"
    assert query(dsn, retried) == [(0,)]

    # 3. The UI's backfill: one run for the two days.
    def finished():
        backfill = client._execute(STATUS, {"id": ui_id})
        backfill = backfill["partitionBackfillOrError"]
        return backfill if backfill["status"].startswith(("COMPLETED", "FAILED")) else None

    backfill = wait_for("the backfill", finished)
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), backfill
    assert len(backfill["runs"]) == 1 and backfill["runs"][0]["status"] == "SUCCESS"
    counts = {d: fact_rows(pg_dsn, d) for d in days}
    assert all(n > 350 for n in counts.values())

    # 4. The asset check results of the backfill run, as the UI reads them.
    run_id = backfill["runs"][0]["runId"]
    for table in ("transactions", "clients", "accounts"):
        executions = client._execute(CHECKS, {"key": {"path": ["staged", table]}})
        mine = [e for e in executions["assetCheckExecutions"] if e["runId"] == run_id]
        # A range run records one evaluation per day, against the day's partition.
        assert sorted((e["partition"], e["status"], e["evaluation"]["success"]) for e in mine) == [
            (d.isoformat(), "SUCCEEDED", True) for d in days
        ]

    # 5. What the UI shows for those partitions agrees with the warehouse (the failed range
    # loaded no fact: its blocking check held the fact back for both its days).
    asset = client._execute(MATERIALIZATIONS, {"keys": [d.isoformat() for d in days]})
    shown = asset["assetOrError"]["assetMaterializations"]
    assert shown
    for materialization in shown:
        entries = {e["label"]: e.get("intValue") for e in materialization["metadataEntries"]}
        # A range run records one materialization per partition, each with its day's rows.
        day = date.fromisoformat(materialization["partition"])
        assert entries["dagster/partition_row_count"] == counts[day]
        assert entries["dagster/row_count"] == rows + sum(counts.values())  # the whole table

    # 5b. The same in a real browser: the Checks and Partitions tabs, screenshots for the README.
    browser.review(client, lake, [DAY, *days], failed_range=bad)

    # 6. The day is redelivered; --failed (not waiting: the deployment's daemon runs it) re-runs
    # it in full, and on the range's good day only what the failed backfill did not materialize
    # (downstream of the failed check).
    lake.write_bytes(f"landing/manifests/{bad[1]}.json", json.dumps(delivered).encode())
    started = time.monotonic()
    out = subprocess.run(
        [*command, "--failed", "--no-wait"], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert time.monotonic() - started < 90  # returned at once: the CLI's start-up, no run
    assert "no Dagster daemon is running" not in out.stdout
    assert f"re-runs backfill {ranged_id}'s failed days {bad[1]} in full" in out.stdout
    again_id = re.search(r"^backfill (\w+) submitted: ", out.stdout, re.M).group(1)
    # the deployment's daemon takes it up: its run is submitted to the queue
    wait_for(
        "the --failed backfill's run", lambda: [b for *_, b in query(dsn, runs) if b == again_id]
    )
    import dagster as dg

    monkeypatch.setenv("DAGSTER_PG_URL", env["DAGSTER_PG_URL"])
    graph = asset_graph()
    home = os.path.join(env["BANK_ASSETS_HOME"], "dagster")
    with dg.DagsterInstance.from_config(home) as instance:
        failed = instance.get_backfill(ranged_id).get_asset_backfill_data(graph)
        again = instance.get_backfill(again_id)
        assert again.tags["dagster/parent_backfill_id"] == ranged_id
        target = again.get_asset_backfill_data(graph).target_subset
    pairs = {
        (ap.asset_key.to_user_string(), ap.partition_key)
        for ap in target.iterate_asset_partitions()
    }
    everything = {k.to_user_string() for k in graph.materializable_asset_keys}
    done_on_good_day = {
        ap.asset_key.to_user_string()
        for ap in failed.materialized_subset.iterate_asset_partitions()
        if ap.partition_key == bad[0].isoformat()
    }
    assert {k for k, d in pairs if d == bad[1].isoformat()} == everything
    assert {k for k, d in pairs if d == bad[0].isoformat()} == everything - done_on_good_day
    assert {d for _, d in pairs} == {bad[0].isoformat(), bad[1].isoformat()}
    assert "raw/transactions" in done_on_good_day and "warehouse/fact_transactions" not in (
        done_on_good_day
    )
