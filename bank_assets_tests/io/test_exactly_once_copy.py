"""Exactly-once warehouse loads: a Spark task attempt that committed its COPY and is then run
again (retried, or a speculative copy) leaves its rows once, in facts and in quarantine tables
(which have no key that would catch a duplicate). Real PostgreSQL; the retry test runs real
Spark with retries (local[2,2]) and the sink's fault hook armed (warehouse_copy.FAULT_CONF)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import psycopg
import pytest
from psycopg import sql

from bank_assets.io.warehouse.loader import (
    Warehouse,
    begin_attempt,
    keep_committed,
    open_ledger,
)
from bank_assets.model.tables import TABLES
from bank_assets_tests.builders import load_tables, query
from bank_assets_tests.conftest import DAY
from bank_assets_tests.io.test_warehouse_faults import ROOT, add_dates, rows_for

TABLES_UNDER_TEST = ["quarantine.transactions", "dw.fact_payments"]


def copy_attempt(dsn: str, stage: str, task: int, attempt: str, columns, rows) -> None:
    """What one Spark task attempt does (io/spark/warehouse_copy.py): enter itself in the
    ledger, COPY its rows, commit both together."""
    schema, name = stage.split(".")
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with psycopg.connect(dsn) as conn:
        begin_attempt(conn, stage, task, attempt)
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def record_ids(dsn: str, qualified: str, day: date) -> list[str]:
    table = TABLES[qualified]
    column = "record_key" if table.schema == "quarantine" else "installment_id"
    return [
        r[0]
        for r in query(
            dsn,
            sql.SQL("select {} from {} where batch_id = %s order by 1").format(
                sql.Identifier(column), sql.Identifier(table.schema, table.name)
            ),
            (day,),
        )
    ]


@pytest.mark.parametrize("qualified", TABLES_UNDER_TEST)
def test_only_the_accepted_attempt_of_each_task_stays_and_a_late_attempt_cannot_write(
    pg_dsn, qualified
):
    Warehouse(pg_dsn).apply_ddl()
    add_dates(pg_dsn, [DAY])
    columns, rows = rows_for(qualified, DAY, 30, "r")
    first, second = rows[:20], rows[20:]  # task 0's rows, task 1's
    seen = {}

    def fill(stage: str) -> list[str]:
        open_ledger(pg_dsn, stage)
        copy_attempt(pg_dsn, stage, 0, "lost", columns, first)  # committed, then failed
        copy_attempt(pg_dsn, stage, 0, "retry", columns, first)  # Spark took this one
        copy_attempt(pg_dsn, stage, 1, "only", columns, second)
        seen["deleted"] = keep_committed(pg_dsn, stage, {"retry", "only"})
        with pytest.raises(psycopg.errors.UndefinedTable):  # a speculative copy, too late
            copy_attempt(pg_dsn, stage, 1, "late", columns, second)
        return columns

    loaded = Warehouse(pg_dsn).load(fill, TABLES[qualified], DAY)
    assert seen["deleted"] == 20
    assert loaded.rows == 30
    assert record_ids(pg_dsn, qualified, DAY) == sorted(f"r-{i}" for i in range(30))
    assert load_tables(pg_dsn) == []  # the ledger went with the load


def test_an_accepted_attempt_missing_from_the_ledger_fails_the_load_and_the_day_stays(pg_dsn):
    qualified = "quarantine.transactions"
    columns, rows = rows_for(qualified, DAY, 5, "old")
    wh = Warehouse(pg_dsn)

    def fill(stage: str, accepted: set[str]) -> list[str]:
        open_ledger(pg_dsn, stage)
        copy_attempt(pg_dsn, stage, 0, "a", columns, rows)
        keep_committed(pg_dsn, stage, accepted)
        return columns

    assert wh.load(lambda stage: fill(stage, {"a"}), TABLES[qualified], DAY).rows == 5
    with pytest.raises(Exception, match="did not commit their COPY"):
        wh.load(lambda stage: fill(stage, {"a", "b"}), TABLES[qualified], DAY)
    assert record_ids(pg_dsn, qualified, DAY) == sorted(f"old-{i}" for i in range(5))
    assert load_tables(pg_dsn) == []


# Runs in a process of its own: Spark retries tasks locally only with local[N,maxFailures], and
# the suite's session (local[2]) cannot change its master.
_RETRIED_LOAD = """
import json, sys
from datetime import date
import pyarrow as pa, pyarrow.parquet as pq
from bank_assets.io.lake import Lake, LakeConfig, day_path
from bank_assets.io.spark.session import get_session
from bank_assets.io.spark.tables import copy_to_warehouse
from bank_assets.io.spark.warehouse_copy import AFTER_COPY, FAULT_CONF
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model.tables import TABLES
from bank_assets.settings import Settings
from bank_assets_tests.io.test_warehouse_faults import rows_for

dsn, lake_dir, day, n = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), int(sys.argv[4])
lake = Lake(LakeConfig(url=lake_dir))
settings = Settings.from_env()
spark = get_session(
    settings.spark_properties("local[2,2]") | {FAULT_CONF: AFTER_COPY},
    class_cache=settings.jvm_cache,
)
out = {}
for qualified in json.loads(sys.argv[5]):
    name = qualified.replace(".", "_")
    columns, rows = rows_for(qualified, day, n, "x")
    for part in range(3):  # three files, COPYed by two tasks (connections=2)
        table = pa.Table.from_pylist([dict(zip(columns, r)) for r in rows[part::3]])
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        path = f"{day_path('curated', name, day)}/part-{part}.parquet"
        lake.write_bytes(path, sink.getvalue().to_pybytes())
    loaded = Warehouse(dsn).load(
        lambda stage: copy_to_warehouse(spark, lake, "curated", name, day, dsn, stage, 2),
        TABLES[qualified],
        day,
    )
    tracker = spark.sparkContext.statusTracker()
    jobs = [tracker.getJobInfo(j) for j in tracker.getJobIdsForGroup()]
    stages = [tracker.getStageInfo(s) for j in jobs for s in j.stageIds]
    failed = sum(s.numFailedTasks for s in stages if s)
    out[qualified] = {"rows": loaded.rows, "failed_tasks": failed}
print(json.dumps(out))
"""


@pytest.mark.slow  # its own Spark (local[2,2]): ~22 s
def test_a_task_retried_after_its_copy_committed_loads_its_rows_once(pg_dsn, tmp_path):
    Warehouse(pg_dsn).apply_ddl()
    add_dates(pg_dsn, [DAY])
    arguments = [
        pg_dsn,
        str(tmp_path / "lake"),
        DAY.isoformat(),
        "90",
        json.dumps(TABLES_UNDER_TEST),
    ]
    run = subprocess.run(
        [sys.executable, "-c", _RETRIED_LOAD, *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.splitlines()[-1])
    for qualified in TABLES_UNDER_TEST:
        assert out[qualified]["rows"] == 90
        assert record_ids(pg_dsn, qualified, DAY) == sorted(f"x-{i}" for i in range(90))
    # every first attempt failed after its COPY (2 tasks a load; the tracker keeps both jobs)
    assert out["quarantine.transactions"]["failed_tasks"] == 2
    assert out["dw.fact_payments"]["failed_tasks"] == 4
    assert load_tables(pg_dsn) == []
