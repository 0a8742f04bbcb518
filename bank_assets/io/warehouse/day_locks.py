"""Per-day run locks: two runs never work on the same landing day at once.

Why: two runs of one day interleave their writes (the lake writer's commit deletes every file of
the day's directory but its own, so one run deletes the other's files; the warehouse swaps race),
and both fail or leave a mix. So a run holds one lock per day it covers, for its whole duration,
taken before any asset of the day runs (`WarehouseResource`, once per run).

How: a PostgreSQL session-level advisory lock per day in the warehouse database, on a connection
kept open for the run. PostgreSQL releases it when that session ends, however the process ended
(kill -9, a crash, the machine rebooting): a dead run never keeps a day locked. `dq.day_locks`
names the holder (run id, when it started, process and host) so the run refused can say who
holds the day; a row left by a dead run is only a name, overwritten by the next holder.
Locks are tried, not waited for: a second run fails at once, before writing anything.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import psycopg

from bank_assets.io.warehouse.loader import Warehouse, WarehouseError

# High 32 bits of the bigint advisory key of a day lock (the low 32 bits: YYYYMMDD); other
# locks of the warehouse (DDL, loads: io/warehouse/loader.py) have other high bits.
DAY_LOCKS = 0x4441_594C << 32


class DayLockedError(WarehouseError):
    """Another run works on a day of this run; the message names it."""


def lock_key(day: date) -> int:
    return DAY_LOCKS | (day.year * 10_000 + day.month * 100 + day.day)


@contextmanager
def hold_days(warehouse: Warehouse, days: Sequence[date], run_id: str) -> Iterator[None]:
    """Hold the locks of `days` for run `run_id` while the block runs, or raise DayLockedError
    naming the run that holds one (the locks taken so far are released)."""
    warehouse.apply_ddl()
    conn = warehouse.connect(autocommit=True)
    try:
        for day in sorted(set(days)):
            if not conn.execute("select pg_try_advisory_lock(%s)", (lock_key(day),)).fetchone()[0]:
                raise DayLockedError(_holder_message(conn, day, run_id))
            conn.execute(
                "insert into dq.day_locks (day, run_id, started_at, pid, host, backend_pid) "
                "values (%s, %s, now(), %s, %s, pg_backend_pid()) on conflict (day) do update "
                "set run_id = excluded.run_id, started_at = excluded.started_at, "
                "pid = excluded.pid, host = excluded.host, backend_pid = excluded.backend_pid",
                (day, run_id, os.getpid(), socket.gethostname()),
            )
        yield
    finally:
        # The rows are only names (the locks go with the session, closed next): if the server
        # went away, so did the locks.
        with contextlib.suppress(psycopg.Error):
            conn.execute("delete from dq.day_locks where backend_pid = pg_backend_pid()")
        conn.close()


def _holder_message(conn: psycopg.Connection, day: date, run_id: str) -> str:
    """Who holds `day`'s lock: the dq.day_locks row of the session holding it. The holder
    writes its row just after taking the lock, so it is looked for a few times."""
    key = lock_key(day)
    for _ in range(20):
        holder = conn.execute(
            "select d.run_id, d.started_at, d.pid, d.host from pg_locks l "
            "join dq.day_locks d on d.backend_pid = l.pid and d.day = %s "
            "where l.locktype = 'advisory' and l.granted and l.objsubid = 1 "
            "and l.classid::bigint = %s and l.objid::bigint = %s and l.database = "
            "(select oid from pg_database where datname = current_database())",
            (day, key >> 32, key & 0xFFFF_FFFF),
        ).fetchone()
        if holder:
            other, started, pid, host = holder
            return (
                f"day {day} is being processed by run {other} (started "
                f"{started.isoformat(timespec='seconds')}, process {pid} on {host}); run "
                f"{run_id} did nothing. Wait for that run to finish, or stop it, then run the "
                "day again."
            )
        time.sleep(0.1)
    return (
        f"day {day} is locked by another session of the warehouse (no run named in "
        f"dq.day_locks); run {run_id} did nothing. Retry once that session ends."
    )
