"""The same definitions on Spark's cluster modes: one small day, through the S3 endpoint (the
moto server) into PostgreSQL, exact against the simulator's manifest, with

- the pipeline a Spark Connect client (BANK_ASSETS_SPARK_MASTER=sc://...) of the server bundled
  in the pyspark wheel (sbin/start-connect-server.sh, its jar in pyspark/jars) on loopback, the
  lake's and the warehouse's Python data sources registered through it;
- that server's executors on local-cluster[2,1,1024]: JVMs of their own, whose Python workers
  import bank_assets (the data sources run there).

One day for the three modes: each costs a Spark start and a day (two separate days took 131 s
and 152 s). The day runs as `bank-assets demo` in a process of its own, as an operator would:
a process holds one Spark driver, and the suite's local[2] session would otherwise be reused.
The driver-side properties of a local-cluster master are unit/test_settings_spark.py's.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyspark
import pytest

from bank_assets.io.lake import Lake
from bank_assets.io.spark.session import JVM_OPTIONS, LOG_CONFIG
from bank_assets.io.warehouse import embedded
from bank_assets.settings import Settings
from bank_assets_tests.builders import query, stop_group
from bank_assets_tests.conftest import DAY, TEST_BUCKET

pytestmark = pytest.mark.slow
TX = 1_000  # the smallest day with every planted defect kind
CLUSTER = "local-cluster[2,1,1024]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkout_env() -> dict[str, str]:
    """This environment with the checkout importable first (Spark's workers inherit it)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """The Spark Connect server of the pyspark wheel on 127.0.0.1 (local[2] behind it), in the
    foreground (--wait) so that stopping its process group stops it; its sc:// URL."""
    home = Path(pyspark.__file__).parent
    script = home / "sbin" / "start-connect-server.sh"
    assert script.exists() and list((home / "jars").glob("spark-connect_*.jar"))
    logs = tmp_path_factory.mktemp("connect")
    port = free_port()
    env = checkout_env() | {
        "SPARK_HOME": str(home),
        "PYSPARK_PYTHON": sys.executable,  # the server's Python workers: this environment
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(logs),
        "SPARK_PID_DIR": str(logs),
    }
    command = [str(script), "--wait", "--master", CLUSTER, "--driver-memory", "2g"]
    for key, value in {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": port,
        "spark.ui.enabled": "false",
        # the project's JVM options (io/spark/session.py): Spark's generated code runs compiled
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG} {JVM_OPTIONS}",
        "spark.executor.extraJavaOptions": JVM_OPTIONS,
    }.items():
        command += ["--conf", f"{key}={value}"]
    log = logs / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Connect server did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield f"sc://127.0.0.1:{port}"
    finally:
        stop_group(server, signal.SIGTERM, timeout=30)


def run_day(tmp_path: Path, lake_url: str, pg_data: Path, pg_dsn: str, master: str) -> float:
    """`bank-assets demo` of DAY on `master`: the S3 lake at `lake_url`, the warehouse at
    `pg_dsn`, Dagster's instance in the test server's `dagster` database; its seconds."""
    dagster = embedded.embedded_dagster_dsn(pg_data)
    env = checkout_env() | {
        "BANK_ASSETS_HOME": str(tmp_path / "home"),
        "BANK_ASSETS_LAKE_URL": lake_url,
        "BANK_ASSETS_PG_DSN": pg_dsn,
        "DAGSTER_PG_URL": dagster.replace("postgresql://", "postgresql+psycopg2://", 1),
        "BANK_ASSETS_SPARK_MASTER": master,
        "BANK_ASSETS_SPARK_DRIVER_MEMORY": "1g",
    }
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "bank_assets.cli", "demo", "--date", DAY.isoformat()]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--transactions", str(TX)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return time.monotonic() - started


def assert_exact(lake_url: str, dsn: str) -> None:
    """The day's warehouse rows are the manifest's: facts and each source's quarantine; no fatal
    rule failed (the run's success already says each source's landed rows reconciled with the
    manifest: rows_accounted_for blocks)."""
    lake = Lake(dataclasses.replace(Settings.from_env().lake_config, url=lake_url))
    manifest = lake.read_manifest(DAY)["tables"]
    tx = manifest["transactions"]["expected"]
    facts = query(dsn, "select count(*) from dw.fact_transactions where date_key = 20261120")
    assert facts == [(tx["staged"],)]
    for name, table in manifest.items():
        held = query(dsn, f"select count(*) from quarantine.{name} where batch_id = %s", (DAY,))
        assert held == [(table["expected"]["quarantined"],)], name
    assert tx["quarantined"] > 0  # the planted defects are there to be counted
    fatal = query(
        dsn,
        "select table_name, rule_id from dq.results where batch_id = %s and not passed "
        "and severity = 'fatal'",
        (DAY,),
    )
    assert fatal == []


def test_a_day_through_spark_connect_on_local_cluster(
    connect_server, s3_env, pg_data, pg_dsn, tmp_path
):
    """One day proves the three modes: the driver a Connect client, the executors in JVMs of
    their own (local-cluster), the lake on the S3 endpoint."""
    lake_url = f"s3://{TEST_BUCKET}/cluster-modes"
    seconds = run_day(tmp_path, lake_url, pg_data, pg_dsn, connect_server)
    assert_exact(lake_url, pg_dsn)
    print(f"Connect day of {TX} transactions on {CLUSTER}: {seconds:.1f}s")
