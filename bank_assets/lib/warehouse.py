"""The PostgreSQL warehouse: DDL, atomic day loads, and what is loaded.

A load goes: Spark tasks COPY the day's rows into a private unlogged staging table
(`warehouse_sink`), then one transaction swaps them in, then the staging table is dropped:

  replace_day  facts and quarantine: the day's rows are replaced (a fact's daily partition is
               created if needed and truncated; other tables delete WHERE batch_id = day)
  scd2         dimensions: new versions are inserted (keys are deterministic, so a re-run adds
               nothing), then valid_from/valid_to/is_current/version are derived per natural key
  upsert       small reference dimensions: insert or update by key

DDL lives in `sql/` and is applied (idempotently, under an advisory lock) before the first load.
SQL values are always parameters; identifiers go through `psycopg.sql.Identifier`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
DDL_LOCK = 7_314_159  # advisory lock id guarding DDL application


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or a load failed; the message says which and why."""


@dataclass(frozen=True)
class WarehouseTable:
    schema: str
    name: str
    load: str  # "replace_day" | "scd2" | "upsert"
    key: tuple[str, ...] = ()  # conflict key (scd2, upsert)
    natural_key: str | None = None  # scd2: the business key whose versions are chained
    partitioned: bool = False  # replace_day on a table range-partitioned by date_key per day
    grain: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


TABLES: dict[str, WarehouseTable] = {
    t.qualified: t
    for t in (
        WarehouseTable("dw", "dim_dates", "upsert", key=("date_key",), grain="one row per day"),
        WarehouseTable(
            "dw",
            "dim_clients",
            "scd2",
            key=("client_key",),
            natural_key="client_id",
            grain="one row per client version",
        ),
        WarehouseTable(
            "dw",
            "dim_accounts",
            "scd2",
            key=("account_key",),
            natural_key="account_id",
            grain="one row per account version",
        ),
        WarehouseTable(
            "dw",
            "fact_transactions",
            "replace_day",
            partitioned=True,
            grain="one row per posting on one account",
        ),
        *(
            WarehouseTable("quarantine", t, "replace_day", grain="one row per quarantined row")
            for t in ("transactions", "clients", "accounts")
        ),
    )
}


@dataclass(frozen=True)
class Loaded:
    rows: int  # the day's rows in the table after the load (SCD2: versions valid that day)
    seconds: float
    table: str


def _date_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


class Warehouse:
    def __init__(self, dsn: str):
        self.dsn = dsn
        self._ddl_applied = False

    def connect(self, **kwargs) -> psycopg.Connection:
        try:
            return psycopg.connect(self.dsn, **kwargs)
        except psycopg.OperationalError as e:
            raise WarehouseError(
                f"cannot connect to PostgreSQL ({e}); check BANK_ASSETS_PG_DSN "
                "or unset it to use the embedded server"
            ) from e

    def apply_ddl(self) -> None:
        """Create schemas, tables and indexes from sql/*.sql (idempotent)."""
        if self._ddl_applied:
            return
        files = sorted(SQL_DIR.glob("*.sql"))
        with self.connect() as conn:
            conn.execute("select pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            for path in files:
                conn.execute(path.read_text())
        self._ddl_applied = True

    def load(self, df, table: WarehouseTable, day: date) -> Loaded:
        """Replace (or merge) one day of `table` with the rows of the Spark DataFrame `df`."""
        self.apply_ddl()
        started = time.perf_counter()
        run = uuid.uuid4().hex[:12]
        target = sql.Identifier(table.schema, table.name)
        if table.partitioned:
            # The rows go straight into the table that becomes the day's partition.
            stage = (table.schema, f"{table.name}_p{_date_key(day)}_{run}")
            create = "create table {} (like {} including defaults including constraints)"
        else:
            stage = ("staging", f"{table.name}_{run}")
            create = "create unlogged table {} (like {} including defaults)"
        stage_id = sql.Identifier(*stage)
        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL(create).format(stage_id, target))
        try:
            (
                df.write.format("bank_pg")
                .mode("append")
                .option("dsn", self.dsn)
                .option("table", ".".join(stage))
                .option("columns", json.dumps(df.columns))
                .save()
            )
            with self.connect() as conn:
                conn.execute("set local synchronous_commit to off")
                swap = {
                    "replace_day": self._replace_day,
                    "scd2": self._scd2,
                    "upsert": self._upsert,
                }
                swap[table.load](conn, table, stage_id, df.columns, day)
                rows = self._day_rows(conn, table, day)
        finally:
            with self.connect(autocommit=True) as conn:
                conn.execute(sql.SQL("drop table if exists {}").format(stage_id))
        return Loaded(rows=rows, seconds=time.perf_counter() - started, table=table.qualified)

    # ---- the swaps (each runs inside the caller's transaction) ----

    def _replace_day(self, conn, table, stage_id, columns, day) -> None:
        target = sql.Identifier(table.schema, table.name)
        if table.partitioned:
            # Swap partitions: the loaded table replaces the day's partition. The CHECK lets
            # ATTACH skip its validation scan; ATTACH builds the partition's indexes.
            key = _date_key(day)
            name = f"{table.name}_p{key}"
            part = sql.Identifier(table.schema, name)
            conn.execute(
                sql.SQL(
                    "alter table {} add constraint {} check (date_key >= {} and date_key < {})"
                ).format(
                    stage_id,
                    sql.Identifier(f"{name}_bounds"),
                    sql.Literal(key),
                    sql.Literal(key + 1),
                )
            )
            conn.execute(sql.SQL("lock table {} in access exclusive mode").format(target))
            exists = conn.execute("select to_regclass(%s)", (f"{table.schema}.{name}",)).fetchone()[
                0
            ]
            if exists:
                conn.execute(sql.SQL("alter table {} detach partition {}").format(target, part))
                conn.execute(sql.SQL("drop table {}").format(part))
            conn.execute(
                sql.SQL("alter table {} rename to {}").format(stage_id, sql.Identifier(name))
            )
            conn.execute(
                sql.SQL("alter table {} attach partition {} for values from ({}) to ({})").format(
                    target, part, sql.Literal(key), sql.Literal(key + 1)
                )
            )
            return
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        conn.execute(sql.SQL("delete from {} where batch_id = %s").format(target), (day,))
        conn.execute(
            sql.SQL("insert into {} ({}) select {} from {}").format(target, cols, cols, stage_id)
        )

    def _upsert(self, conn, table, stage_id, columns, day) -> None:
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        keys = sql.SQL(", ").join(map(sql.Identifier, table.key))
        others = [c for c in columns if c not in table.key]
        updates = sql.SQL(", ").join(
            sql.SQL("{} = excluded.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in others
        )
        target = sql.Identifier(table.schema, table.name)
        changed = sql.SQL("({}) is distinct from ({})").format(
            sql.SQL(", ").join(sql.SQL("{}.{}").format(target, sql.Identifier(c)) for c in others),
            sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in others),
        )
        conn.execute(
            sql.SQL(
                "insert into {} ({}) select {} from {} on conflict ({}) do update set {} where {}"
            ).format(target, cols, cols, stage_id, keys, updates, changed)
        )

    def _scd2(self, conn, table, stage_id, columns, day) -> None:
        """Insert new versions; an existing version seen earlier moves its valid_from back.

        Then chain the versions of every natural key in the load: ordered by valid_from, each
        is valid until the next begins; the last is current. Only rows that change are written.
        """
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        target = sql.Identifier(table.schema, table.name)
        key = sql.Identifier(table.key[0])
        natural = sql.Identifier(table.natural_key)
        # A re-delivered day replaces the versions it introduced: versions first seen that day
        # that the new delivery no longer holds go, so a day never holds two versions of a key.
        conn.execute(
            sql.SQL(
                "delete from {t} where valid_from = %s and {k} <> -1 "
                "and {n} in (select {n} from {s}) and {k} not in (select {k} from {s})"
            ).format(t=target, k=key, n=natural, s=stage_id),
            (day,),
        )
        conn.execute(
            sql.SQL(
                "insert into {t} ({cols}) select {cols} from {s} on conflict ({k}) do update "
                "set valid_from = excluded.valid_from, batch_id = excluded.batch_id "
                "where excluded.valid_from < {t}.valid_from"
            ).format(t=target, cols=cols, s=stage_id, k=key)
        )
        conn.execute(
            sql.SQL(
                """
                with chained as (
                    select {k} as version_key,
                           row_number() over w as version,
                           coalesce(lead(valid_from) over w, date '9999-12-31') as valid_to
                    from {t}
                    where {n} in (select {n} from {s}) and {k} <> -1
                    window w as (partition by {n} order by valid_from, {k})
                )
                update {t} d
                set version = c.version, valid_to = c.valid_to,
                    is_current = (c.valid_to = date '9999-12-31')
                from chained c
                where d.{k} = c.version_key
                  and (d.version, d.valid_to) is distinct from (c.version, c.valid_to)
                """
            ).format(t=target, k=key, n=natural, s=stage_id)
        )

    def _day_rows(self, conn, table: WarehouseTable, day: date) -> int:
        target = sql.Identifier(table.schema, table.name)
        if table.load == "scd2":  # versions valid on the day
            query = sql.SQL(
                "select count(*) from {} where valid_from <= %s and %s < valid_to and {} <> -1"
            ).format(target, sql.Identifier(table.key[0]))
            return conn.execute(query, (day, day)).fetchone()[0]
        if table.partitioned:
            query = sql.SQL("select count(*) from {} where date_key = %s").format(target)
            return conn.execute(query, (_date_key(day),)).fetchone()[0]
        query = sql.SQL("select count(*) from {} where batch_id = %s").format(target)
        return conn.execute(query, (day,)).fetchone()[0]

    # ---- what is loaded ----

    def status(self) -> dict:
        """Per warehouse table: total rows and rows per loaded partition (batch day)."""
        self.apply_ddl()
        out: dict = {"tables": {}}
        with self.connect() as conn:
            for table in TABLES.values():
                target = sql.Identifier(table.schema, table.name)
                rows = conn.execute(
                    sql.SQL(
                        "select batch_id, count(*) from {} where batch_id is not null "
                        "group by batch_id order by batch_id"
                    ).format(target)
                ).fetchall()
                total = conn.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[
                    0
                ]
                name = table.name if table.schema == "dw" else table.qualified
                out["tables"][name] = {
                    "rows": total,
                    "partitions": {d.isoformat(): n for d, n in rows},
                }
        return out
