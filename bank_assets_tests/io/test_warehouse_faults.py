"""Faults leave no debris in the warehouse: a killed load's table is dropped by the next load, a
swap killed or failing half way leaves the day as it was, a day lock names its holder and dies
with its process, a re-run does not repeat its alerts (Dagster runs of one day:
dagster/test_faults.py).

Real PostgreSQL throughout; a "killed" load is a real process killed with SIGKILL mid-load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import psycopg
import pytest
from psycopg import sql

from bank_assets.io.alerts import KINDS, Alert, raise_alert
from bank_assets.io.warehouse.day_locks import DayLockedError, hold_days
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model.tables import TABLES
from bank_assets_tests.builders import load_tables, query
from bank_assets_tests.conftest import DAY

OTHER = DAY - timedelta(days=1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def add_dates(dsn: str, days: list[date]) -> None:
    """dim_dates rows for `days` (what the facts' date keys point to)."""
    for d in days:
        query(
            dsn,
            "insert into dw.dim_dates values (%s, %s, 1, 'x', 1, 1, 1, 2026, 11, 'November', 4, "
            "2026, false, false, true, false) on conflict do nothing returning 1",
            (d.year * 10_000 + d.month * 100 + d.day, d),
        )


def rows_for(qualified: str, day: date, n: int, tag: str) -> tuple[list[str], list[tuple]]:
    """(columns, n rows of `day`) for a quarantine table or dw.fact_payments; ids start `tag`."""
    key = day.year * 10_000 + day.month * 100 + day.day
    if qualified == "dw.fact_payments":
        columns = [
            "date_key",
            "installment_id",
            "loan_id",
            "client_key",
            "account_key",
            "product_key",
            "due_date_key",
            "installment_no",
            "due_date",
            "amount_due",
            "principal_part",
            "interest_part",
            "fee_part",
            "paid_amount",
            "late_fee",
            "status",
            "days_late",
            "batch_id",
            "source_file",
            "landed_at",
            "record_hash",
        ]
        payment = ("L1", -1, -1, -1, key, 1, day, 10, 6, 3, 1, 10, 0, "PAID", 0)
        lineage = (day, "f.csv", "2026-11-21T00:00:00Z", "h")
        rows = [(key, f"{tag}-{i}", *payment, *lineage) for i in range(n)]
        return columns, rows
    columns = ["batch_id", "record_key", "rule_id", "reason", "source_file", "source_line"]
    columns += ["landed_at", "raw_payload", "record_hash"]
    rows = [
        (day, f"{tag}-{i}", "r", "why", "f.csv", i, "2026-11-21T00:00:00Z", "{}", "h")
        for i in range(n)
    ]
    return columns, rows


def load_rows(
    dsn: str, qualified: str, day: date, n: int, tag: str, pause: bool = False, wh=None
) -> int:
    """Load n rows of `day` into `qualified` as the warehouse assets do (`Warehouse.load`), the
    COPY done here instead of by Spark. With `pause`, once the rows are in the load's table,
    print its name and wait for a line on stdin (the test kills the process there, or lets it
    go on)."""
    table = TABLES[qualified]
    columns, rows = rows_for(qualified, day, n, tag)

    def fill(stage: str) -> list[str]:
        schema, name = stage.split(".")
        statement = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with psycopg.connect(dsn) as conn, conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        if pause:
            print(f"filled {stage}", flush=True)
            sys.stdin.readline()
        return columns

    return (wh or Warehouse(dsn)).load(fill, table, day).rows


def start_load(dsn: str, qualified: str, day: date, n: int, tag: str) -> subprocess.Popen:
    """`load_rows(..., pause=True)` in another process; returns once its rows are copied."""
    code = (
        "import sys; from datetime import date; "
        "from bank_assets_tests.io.test_warehouse_faults import load_rows; "
        "load_rows(sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), int(sys.argv[4]), "
        "sys.argv[5], pause=True)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, dsn, qualified, day.isoformat(), str(n), tag],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT, "PGAPPNAME": f"load-{tag}"},
    )
    line = proc.stdout.readline()
    assert line.startswith("filled "), f"the load did not start: {line!r}"
    proc.stage = line.split()[1]
    return proc


def kill(proc: subprocess.Popen, dsn: str, app: str) -> None:
    """SIGKILL the process, then wait until PostgreSQL has ended its sessions (it notices the
    closed sockets at once, but a session ends asynchronously)."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(100):
        alive = "select count(*) from pg_stat_activity where application_name = %s"
        if query(dsn, alive, (app,)) == [(0,)]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the sessions of {app} did not end")


def day_rows(dsn: str, qualified: str, day: date) -> list[tuple]:
    schema, name = qualified.split(".")
    return query(
        dsn,
        sql.SQL("select t::text from {} t where batch_id = %s order by 1").format(
            sql.Identifier(schema, name)
        ),
        (day,),
    )


@pytest.mark.parametrize("qualified", ["quarantine.transactions", "dw.fact_payments"])
def test_a_load_killed_mid_way_leaves_a_table_the_next_load_drops(pg_dsn, qualified):
    Warehouse(pg_dsn).apply_ddl()
    add_dates(pg_dsn, [OTHER, DAY])
    assert load_rows(pg_dsn, qualified, DAY, 50, "first") == 50
    before = day_rows(pg_dsn, qualified, DAY)

    killed = start_load(pg_dsn, qualified, DAY, 80, "killed")  # a re-load of DAY, half done
    kill(killed, pg_dsn, "load-killed")
    assert load_tables(pg_dsn) == [killed.stage]  # nothing could drop it
    assert day_rows(pg_dsn, qualified, DAY) == before  # the day's rows were never touched

    assert load_rows(pg_dsn, qualified, OTHER, 30, "next") == 30  # the next load, another day
    assert load_tables(pg_dsn) == []
    assert day_rows(pg_dsn, qualified, DAY) == before
    assert len(day_rows(pg_dsn, qualified, OTHER)) == 30


def test_a_live_load_of_another_day_keeps_its_table(pg_dsn):
    """The orphan sweep at the start of a load leaves alone the table of a load that is still
    running in another process, here another day of the same partitioned table."""
    qualified = "dw.fact_payments"
    Warehouse(pg_dsn).apply_ddl()
    add_dates(pg_dsn, [OTHER, DAY])
    assert load_rows(pg_dsn, qualified, DAY, 50, "first") == 50
    live = start_load(pg_dsn, qualified, OTHER, 40, "live")
    try:
        assert load_rows(pg_dsn, qualified, DAY, 60, "again") == 60
        assert load_tables(pg_dsn) == [live.stage]
        live.communicate("go\n", timeout=60)  # the live load goes on and completes
    finally:
        if live.poll() is None:
            live.kill()
    assert live.returncode == 0
    assert load_tables(pg_dsn) == []
    assert {r[0].split(",")[1] for r in day_rows(pg_dsn, qualified, OTHER)} == {
        f"live-{i}" for i in range(40)
    }
    assert len(day_rows(pg_dsn, qualified, DAY)) == 60


def test_a_swap_killed_mid_way_leaves_the_day_as_it_was(pg_dsn):
    """The swap's backend is terminated while the old partition is being replaced (held up by a
    lock the test takes on what its foreign keys point to): its transaction is rolled back, the
    day keeps its rows, and the load drops its table."""
    qualified = "dw.fact_payments"
    wh = Warehouse(pg_dsn)
    wh.apply_ddl()
    add_dates(pg_dsn, [DAY])
    assert load_rows(pg_dsn, qualified, DAY, 50, "first", wh=wh) == 50
    before = day_rows(pg_dsn, qualified, DAY)
    errors: list[BaseException] = []

    def reload():
        try:
            load_rows(pg_dsn, qualified, DAY, 70, "swap", wh=wh)
        except BaseException as e:
            errors.append(e)

    with psycopg.connect(pg_dsn) as blocker:
        blocker.execute("lock table dw.dim_dates in share mode")
        thread = threading.Thread(target=reload)
        thread.start()
        for _ in range(200):
            blocked = query(
                pg_dsn,
                "select pid, query from pg_stat_activity where datname = current_database() "
                "and wait_event_type = 'Lock'",
            )
            if blocked:
                break
            time.sleep(0.05)
        ((pid, statement),) = blocked
        assert statement.lower().startswith(("alter table", "drop table")), statement
        assert query(pg_dsn, "select pg_terminate_backend(%s)", (pid,)) == [(True,)]
        thread.join(60)
    (error,) = errors
    assert isinstance(error, psycopg.OperationalError), error
    assert day_rows(pg_dsn, qualified, DAY) == before
    assert load_tables(pg_dsn) == []


def test_a_swap_failing_after_the_old_partition_went_leaves_the_day_as_it_was(pg_dsn):
    """The new rows point to a client that does not exist: ATTACH fails, after the old
    partition was detached and dropped and the new one renamed; all of it is rolled back."""
    qualified = "dw.fact_payments"
    Warehouse(pg_dsn).apply_ddl()
    add_dates(pg_dsn, [DAY])
    assert load_rows(pg_dsn, qualified, DAY, 50, "first") == 50
    before = day_rows(pg_dsn, qualified, DAY)
    columns, rows = rows_for(qualified, DAY, 70, "orphan-client")
    rows = [(*r[:3], 999_999, *r[4:]) for r in rows]  # client_key: no such client

    def fill(stage: str) -> list[str]:
        with psycopg.connect(pg_dsn) as conn, conn.cursor() as cur:
            statement = sql.SQL("copy {} ({}) from stdin").format(
                sql.Identifier(*stage.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        return columns

    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="client_key"):
        Warehouse(pg_dsn).load(fill, TABLES[qualified], DAY)
    assert day_rows(pg_dsn, qualified, DAY) == before
    assert load_tables(pg_dsn) == []


# ---- one run per day ------------------------------------------------------------------------


def hold_in_process(dsn: str, days: list[date], run_id: str) -> subprocess.Popen:
    """A process holding the locks of `days` as run `run_id` until it gets a line on stdin."""
    code = (
        "import sys, json; from datetime import date; "
        "from bank_assets.io.warehouse.day_locks import hold_days; "
        "from bank_assets.io.warehouse.loader import Warehouse\n"
        "with hold_days(Warehouse(sys.argv[1]), [date.fromisoformat(d) for d in "
        "json.loads(sys.argv[2])], sys.argv[3]):\n"
        "    print('held', flush=True); sys.stdin.readline()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, dsn, json.dumps([d.isoformat() for d in days]), run_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT, "PGAPPNAME": f"hold-{run_id}"},
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_day_lock_names_its_holder_and_dies_with_its_process(pg_dsn):
    wh = Warehouse(pg_dsn)
    holder = hold_in_process(pg_dsn, [DAY], "run-one")
    try:
        with (
            pytest.raises(
                DayLockedError,
                match=rf"day {DAY} is being processed by run run-one \(started "
                rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d.*, process {holder.pid} on .*\); "
                r"run run-two did nothing",
            ),
            hold_days(wh, [OTHER, DAY], "run-two"),
        ):
            pass
        with hold_days(wh, [OTHER], "run-three"):  # the refused run released OTHER
            assert query(pg_dsn, "select day, run_id from dq.day_locks order by day") == [
                (OTHER, "run-three"),
                (DAY, "run-one"),
            ]
    finally:
        kill(holder, pg_dsn, "hold-run-one")  # kill -9: PostgreSQL releases the lock
    with hold_days(wh, [DAY], "run-four"):
        assert query(pg_dsn, "select run_id from dq.day_locks where day = %s", (DAY,)) == [
            ("run-four",)
        ]
    assert query(pg_dsn, "select run_id from dq.day_locks") == []  # released, name and all


# ---- alerts once ----------------------------------------------------------------------------


def warning(run_id: str) -> Alert:
    return Alert(
        kind="rule_warning",
        severity="warn",
        message=f"seen by {run_id}",
        run_id=run_id,
        partition_key=DAY.isoformat(),
        subject=f"staged/transactions:amount_within_type_limit:{DAY}",
    )


def test_a_rerun_updates_its_alerts_instead_of_adding_them(pg_dsn):
    wh = Warehouse(pg_dsn)
    assert raise_alert(wh, warning("run-1"))
    assert not raise_alert(wh, warning("run-1"))  # the same run again: nothing
    assert raise_alert(wh, warning("run-2"))  # a re-run: the row is its now
    for run_id in ("run-1", "run-2", "run-2"):
        raise_alert(wh, Alert("run_failure", "error", "failed", run_id=run_id))
    assert query(pg_dsn, "select kind, run_id, message from dq.alerts order by kind, run_id") == [
        ("rule_warning", "run-2", "seen by run-2"),
        ("run_failure", "run-1", "failed"),
        ("run_failure", "run-2", "failed"),
    ]


def test_an_alert_of_an_unknown_kind_is_refused(pg_dsn):
    wh = Warehouse(pg_dsn)
    for kind in KINDS:  # every kind the code writes is accepted
        assert raise_alert(wh, Alert(kind, "error", "m", run_id=f"run-{kind}"))
    with pytest.raises(psycopg.errors.CheckViolation, match="alerts_kind_known"):
        raise_alert(wh, Alert("run_falure", "error", "misspelt", run_id="run-x"))
    assert query(pg_dsn, "select count(*) from dq.alerts where run_id = 'run-x'") == [(0,)]


def test_an_existing_warehouse_loses_its_duplicate_alerts(pg_dsn):
    """A warehouse from before the unique subject index: its duplicates are cleaned (the
    newest of each subject stays) and the index is added, when the DDL is next applied."""
    Warehouse(pg_dsn).apply_ddl()
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("drop index dq.alerts_once_per_subject")
        # and no ledger nor what came after it: a warehouse from before the ledger, whose
        # baseline files run again once (then 060 adds the holiday columns)
        conn.execute("drop table public.schema_migrations")
        conn.execute("drop view if exists analyst.dim_dates cascade")
        conn.execute(
            "alter table dw.dim_dates drop column is_french_holiday, "
            "drop column french_holiday_name"
        )
        for run_id in ("run-1", "run-2", "run-3"):
            conn.execute(
                "insert into dq.alerts (kind, severity, run_id, message, subject) "
                "values ('rule_warning', 'warn', %s, 'm', 's:r:d'), "
                "('run_failure', 'error', %s, 'm', '')",
                (run_id, run_id),
            )
    Warehouse(pg_dsn).apply_ddl()
    assert query(pg_dsn, "select kind, run_id from dq.alerts order by kind, run_id") == [
        ("rule_warning", "run-3"),
        ("run_failure", "run-1"),
        ("run_failure", "run-2"),
        ("run_failure", "run-3"),
    ]
    with pytest.raises(psycopg.errors.UniqueViolation):
        query(
            pg_dsn,
            "insert into dq.alerts (kind, severity, run_id, message, subject) "
            "values ('rule_warning', 'warn', 'run-4', 'm', 's:r:d')",
        )
