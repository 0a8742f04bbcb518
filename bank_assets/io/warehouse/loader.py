"""The PostgreSQL warehouse: DDL, atomic day loads, and what is loaded.

A load goes: Spark tasks COPY the day's lake files into a private staging table
(`warehouse_copy`), then one transaction swaps them in, then the staging table is dropped:

  replace_day  facts and quarantine: the day's rows are replaced (a fact's daily partition is
               created if needed and truncated; other tables delete WHERE batch_id = day)
  scd2         dimensions: new versions are inserted (keys are deterministic, so a re-run adds
               nothing), then valid_from/valid_to/is_current/version are derived per natural key;
               the type-1 (described) attributes of the newest export go to every version
  upsert       small reference dimensions: insert or update by key

DDL lives in `sql/`: its numbered files are migrations, applied once each and recorded
(`migrations.py`), then the views and grants are re-applied, under an advisory lock, before the
first load.
SQL values are always parameters; identifiers go through `psycopg.sql.Identifier`.

Exactly once: a Spark task attempt can COPY and still be run again (retried after its COPY
committed, or a speculative copy). Each load COPYing from Spark has an attempt ledger,
`staging.attempts_<id>` (`open_ledger`; dropped with the private table at the latest): every
attempt enters itself there in the transaction of its COPY (`begin_attempt`), and once Spark
accepted one attempt per task, `keep_committed` deletes the rows of the others (found by their
transaction id, `xmin`, the same as their ledger row's) and drops the ledger, so an attempt that
comes later fails without writing.

A load killed mid-way (kill -9, a stopped server) cannot drop its private tables: the next load
drops them (`drop_orphans`). A killed load never alters the day's rows: they only change in the
swap's one transaction, which a dead session rolls back.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from bank_assets.io.warehouse import access, comments, migrations
from bank_assets.model.keys import date_key
from bank_assets.model.sources import SOURCES
from bank_assets.model.tables import TABLES, WarehouseTable

if TYPE_CHECKING:
    from bank_assets.model.quality import Result

SQL_DIR = migrations.sql_dir()
DDL_LOCK = 7_314_159  # advisory lock id guarding DDL application
# Advisory locks of live loads: the high 16 bits of the bigint key say "load" (DDL_LOCK and the
# day locks of day_locks.py have other high bits), the low 48 bits are the load's id, the
# 12 hex digits that end its private table's name.
LOAD_LOCKS = 0x4C4F << 48
# A private load table's name: "<table>_<id>" in schema staging, "<table>_p<YYYYMMDD>_<id>" in
# the table's own schema for a partition-to-be (swapped in under the partition's own name).
LOAD_ID = re.compile(r"_(?:p[0-9]{8}_)?([0-9a-f]{12})$")
# The connections one load COPYs over at most (BANK_ASSETS_COPY_CONNECTIONS): a few loads run at
# once and PostgreSQL allows 100 connections by default; past the server's cores more COPYs
# only compete for them.
COPY_CONNECTIONS = 4


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or a load failed; the message says which and why."""


@dataclass(frozen=True)
class Loaded:
    rows: int  # the day's rows in the table after the load (SCD2: versions valid that day)
    seconds: float
    table: str


def _ledger(stage: str) -> sql.Identifier:
    """The attempt ledger of the load whose private table is `stage` ("schema.name")."""
    return sql.Identifier("staging", f"attempts_{LOAD_ID.search(stage).group(1)}")


def open_ledger(dsn: str, stage: str) -> None:
    """Create the attempt ledger of `stage`'s load (before its Spark job COPYs into `stage`)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create unlogged table {} (task int not null, attempt text not null)").format(
                _ledger(stage)
            )
        )


def begin_attempt(conn: psycopg.Connection, stage: str, task: int, attempt: str) -> None:
    """Enter a Spark task attempt in the ledger of `stage`'s load, on the connection whose
    transaction then COPYs into `stage` (io/spark/warehouse_copy.py): the ledger row and the
    rows commit together, with one transaction id. Fails once the driver dropped the ledger."""
    conn.execute(
        sql.SQL("insert into {} (task, attempt) values (%s, %s)").format(_ledger(stage)),
        (task, attempt),
    )


def keep_committed(dsn: str, stage: str, accepted: Collection[str]) -> int:
    """Keep in `stage` only the rows of the `accepted` attempts (the ones Spark took the result
    of, one per task) and drop the load's ledger; returns the rows deleted (those of attempts
    that committed their COPY and were then run again)."""
    ledger, stage_id = _ledger(stage), sql.Identifier(*stage.split(".", 1))
    with psycopg.connect(dsn) as conn:
        # waits for attempts still copying (each holds a lock on the ledger until it ends); the
        # ones that start later find no ledger and fail before they write
        conn.execute(sql.SQL("lock table {} in access exclusive mode").format(ledger))
        entered = dict(conn.execute(sql.SQL("select attempt, xmin::text from {}").format(ledger)))
        if missing := set(accepted) - set(entered):
            raise WarehouseError(f"{stage}: attempts {sorted(missing)} did not commit their COPY")
        others = [xid for attempt, xid in entered.items() if attempt not in accepted]
        deleted = 0
        if others:  # rare: only after a retry or a speculative copy
            deleted = conn.execute(
                sql.SQL("delete from {} where xmin::text = any(%s)").format(stage_id), (others,)
            ).rowcount
        conn.execute(sql.SQL("drop table {}").format(ledger))
    return deleted


def _is_partition_stage(schema: str, name: str) -> bool:
    """True if `name` in `schema` is a partition-to-be of a partitioned table (see `load`)."""
    return any(
        t.partitioned
        and t.schema == schema
        and re.fullmatch(rf"{t.name}_p[0-9]{{8}}_[0-9a-f]{{12}}", name)
        for t in TABLES.values()
    )


class Warehouse:
    def __init__(self, dsn: str, copy_connections: int = COPY_CONNECTIONS):
        self.dsn = dsn
        self.copy_connections = copy_connections
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
        """Apply the migrations of sql/ not yet applied (`migrations.migrate`), then, every time:
        one quarantine table per source (shaped like quarantine.transactions), the analyst
        schema's masked views, the views of sql/views, the analyst role's grants (sql/access)
        and the tables' and columns' comments (`comments.py`). Run as the loader, under an
        advisory lock."""
        if self._ddl_applied:
            return
        with self.connect(autocommit=True) as conn:
            # a session lock (released when the connection closes): each migration commits alone
            conn.execute("select pg_advisory_lock(%s)", (DDL_LOCK,))
            migrations.migrate(conn, SQL_DIR)
            with conn.transaction():
                for source in SOURCES:
                    conn.execute(
                        sql.SQL("create table if not exists {} (like {} including all)").format(
                            sql.Identifier("quarantine", source),
                            sql.Identifier("quarantine", "transactions"),
                        )
                    )
                # the analyst schema: masked views, friendly views, then who may read them
                for statement in access.analyst_views(
                    conn, [t.name for t in TABLES.values() if t.schema == "dw"]
                ):
                    conn.execute(statement)
                for view in migrations.sql_files(SQL_DIR / "views"):
                    conn.execute(view.read_text())
                grants = (SQL_DIR / "access" / "grants.sql").read_text()
                conn.execute(sql.SQL(grants).format(analyst=sql.Identifier(access.ANALYST)))
                for statement in access.database_grants(conn):
                    conn.execute(statement)
                for statement in comments.statements(conn):  # the catalog's descriptions
                    conn.execute(statement)
        self._ddl_applied = True

    def load(self, fill: Callable[[str], list[str]], table: WarehouseTable, day: date) -> Loaded:
        """Replace (or merge) one day of `table` with the rows `fill` COPYs into the private
        table it is given ("schema.name"); `fill` returns the columns it filled (see
        `spark.copy_to_warehouse`). First drops the tables of loads that died (`drop_orphans`)."""
        self.apply_ddl()
        started = time.perf_counter()
        run = uuid.uuid4().hex[:12]
        target = sql.Identifier(table.schema, table.name)
        if table.partitioned:
            # The rows go straight into the table that becomes the day's partition; its bounds
            # are a CHECK from the start (checked as rows arrive), so ATTACH needs no scan.
            key = date_key(day)
            stage = (table.schema, f"{table.name}_p{key}_{run}")
            stage_id = sql.Identifier(*stage)
            create = [
                sql.SQL(
                    "create table {} (like {} including defaults including constraints)"
                ).format(stage_id, target),
                sql.SQL(
                    "alter table {} add constraint {} check (date_key >= {} and date_key < {})"
                ).format(
                    stage_id,
                    sql.Identifier(f"{table.name}_p{key}_bounds"),
                    sql.Literal(key),
                    sql.Literal(key + 1),
                ),
            ]
        else:
            stage = ("staging", f"{table.name}_{run}")
            stage_id = sql.Identifier(*stage)
            create = [
                sql.SQL("create unlogged table {} (like {} including defaults)").format(
                    stage_id, target
                )
            ]
        # the attempt ledger too, if `fill` opened one (`open_ledger`)
        drop = sql.SQL("drop table if exists {}, {}").format(stage_id, _ledger(".".join(stage)))
        # `owner` holds this load's lock from before its table exists until it is dropped
        owner = self.connect(autocommit=True)
        try:
            owner.execute("select pg_advisory_lock(%s)", (LOAD_LOCKS | int(run, 16),))
            self.drop_orphans(owner)
            for statement in create:
                owner.execute(statement)
            columns = fill(".".join(stage))
            if table.partitioned:
                self._index_partition(table, stage)
            with self.connect() as conn:
                conn.execute("set local synchronous_commit to off")
                if not table.partitioned:
                    conn.execute("set local work_mem to '64MB'")  # the merges sort in memory
                    # Fresh COPY targets have no statistics: without them the planner picks
                    # nested loops for the merges (measured 2.4 s instead of 0.2 s on 75,000
                    # accounts). A swapped-in partition is not merged: autovacuum analyzes it.
                    conn.execute(sql.SQL("analyze {}").format(stage_id))
                swap = {
                    "replace_day": self._replace_day,
                    "scd2": self._scd2,
                    "upsert": self._upsert,
                }
                swap[table.load](conn, table, stage_id, columns, day)
                rows = self._day_rows(conn, table, day)
        except BaseException:
            # The load's own error is the one to raise; if the drop fails too (the server went
            # away), the table is an orphan that the next load drops.
            with contextlib.suppress(psycopg.Error):
                owner.execute(drop)
            raise
        else:
            owner.execute(drop)
        finally:
            owner.close()
        return Loaded(rows=rows, seconds=time.perf_counter() - started, table=table.qualified)

    def drop_orphans(self, conn: psycopg.Connection) -> list[str]:
        """Drop the private tables of loads that died (killed, their server stopped); returns
        their names. Used at the start of every load, on `conn` (autocommit).

        Why a lock per load, not per day or table: a load table is an orphan exactly when no
        session holds its load's advisory lock (`load` takes it before creating the table and
        keeps it until the table is dropped; PostgreSQL releases it when the session ends,
        however the process died). So a live load is never touched, whatever it loads: another
        day of the same table in another run, or the same day outside any run lock (the day
        locks of day_locks.py cover runs only). A table is dropped while its lock is held
        here, so its id cannot be taken meanwhile.
        """
        candidates = conn.execute(
            "select n.nspname, c.relname from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where c.relkind = 'r' and not c.relispartition and n.nspname = any(%s) "
            "and c.relname ~ %s",
            (["staging", *{t.schema for t in TABLES.values() if t.partitioned}], LOAD_ID.pattern),
        ).fetchall()
        dropped = []
        for schema, name in candidates:
            if schema != "staging" and not _is_partition_stage(schema, name):
                continue
            lock = LOAD_LOCKS | int(LOAD_ID.search(name).group(1), 16)
            if not conn.execute("select pg_try_advisory_lock(%s)", (lock,)).fetchone()[0]:
                continue  # a live load's
            try:
                conn.execute(
                    sql.SQL("drop table if exists {}").format(sql.Identifier(schema, name))
                )
                dropped.append(f"{schema}.{name}")
            finally:
                conn.execute("select pg_advisory_unlock(%s)", (lock,))
        return dropped

    def _index_partition(self, table: WarehouseTable, stage: tuple[str, str]) -> None:
        """Build the parent's indexes on a loaded partition-to-be, two at a time (one per
        connection), so ATTACH finds them instead of building them one after the other.
        The primary key's index is built the same way, then made the primary key."""
        with self.connect(autocommit=True) as conn:
            parent = conn.execute(
                """
                select pg_get_indexdef(i.indexrelid), c.conname
                from pg_index i
                left join pg_constraint c on c.conindid = i.indexrelid and c.contype = 'p'
                where i.indrelid = %s::regclass
                """,
                (table.qualified,),
            ).fetchall()
        stage_id, builds, primary = sql.Identifier(*stage), [], None
        for definition, constraint in parent:
            # "CREATE [UNIQUE] INDEX <name> ON ONLY <parent> USING <method> (<columns>) [WHERE]"
            # from the catalog -> the same index on the stage table
            head, rest = definition.split(" ON ONLY ", 1)[0], definition.split(" USING ", 1)[1]
            name = sql.Identifier(f"{stage[1]}_i{len(builds)}")
            builds.append(
                sql.SQL("create {} {} on {} using {}").format(
                    sql.SQL("unique index" if head.startswith("CREATE UNIQUE") else "index"),
                    name,
                    stage_id,
                    sql.SQL(rest),
                )
            )
            if constraint:
                primary = sql.SQL("alter table {} add primary key using index {}").format(
                    stage_id, name
                )

        def run(statements):
            with self.connect(autocommit=True) as conn:
                # the primary key's sort in memory (1M postings: 1.3 s with the 64MB default,
                # 0.8 s without spilling)
                conn.execute("set maintenance_work_mem to '256MB'")
                for statement in statements:
                    conn.execute(statement)

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(run, [builds[0::2], builds[1::2]]))
        if primary is not None:
            with self.connect(autocommit=True) as conn:
                conn.execute(primary)

    def upsert_rows(self, table: WarehouseTable, rows: list[dict]) -> int:
        """Upsert a few rows given in Python (reference data); returns the table's row count."""
        self.apply_ddl()
        columns = list(rows[0])
        target = sql.Identifier(table.schema, table.name)
        with self.connect() as conn:
            temp = sql.Identifier(f"{table.name}_rows")
            conn.execute(
                sql.SQL("create temporary table {} (like {}) on commit drop").format(temp, target)
            )
            cols = sql.SQL(", ").join(map(sql.Identifier, columns))
            marks = sql.SQL(", ").join(sql.Placeholder() * len(columns))
            with conn.cursor() as cur:
                cur.executemany(
                    sql.SQL("insert into {} ({}) values ({})").format(temp, cols, marks),
                    [tuple(r[c] for c in columns) for r in rows],
                )
            self._upsert(conn, table, temp, columns, None)
            return conn.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[0]

    # ---- the swaps (each runs inside the caller's transaction) ----

    def _replace_day(self, conn, table, stage_id, columns, day) -> None:
        target = sql.Identifier(table.schema, table.name)
        if table.partitioned:
            # Swap partitions: the loaded table (bounds checked, indexes built, see `load`)
            # replaces the day's partition; ATTACH validates its foreign keys.
            key = date_key(day)
            name = f"{table.name}_p{key}"
            part = sql.Identifier(table.schema, name)
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
        if table.newer:  # re-running an older day never overwrites a newer state
            changed = sql.SQL("{} and excluded.{} >= {}.{}").format(
                changed, sql.Identifier(table.newer), target, sql.Identifier(table.newer)
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
        A key absent from the load (its row quarantined that day) keeps its versions as they
        are: its current version stays current. Last, the type-1 attributes (`_type1`).
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
        # A key new to the table is described by its own row: its type-1 attributes are the
        # load's, so it is inserted with described_on set (what `_type1` would set) instead of
        # being updated right after: an update rewrites every row and its index entries, the
        # GiST exclusion's too (a first load of 75,000 accounts: 2.4 s).
        described = sql.SQL("")
        if table.type1:
            described = sql.SQL(
                ", case when not exists (select from {t} x where x.{n} = s.{n}) "
                "then s.valid_from end"
            ).format(t=target, n=natural)
            into = sql.SQL("{}, described_on").format(cols)
        else:
            into = cols
        conn.execute(
            sql.SQL(
                "insert into {t} ({into}) select {cols}{described} from {s} s "
                "on conflict ({k}) do update "
                "set valid_from = excluded.valid_from, batch_id = excluded.batch_id "
                "where excluded.valid_from < {t}.valid_from"
            ).format(
                t=target,
                into=into,
                cols=sql.SQL(", ").join(sql.Identifier("s", c) for c in columns),
                described=described,
                s=stage_id,
                k=key,
            )
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
        if table.type1:
            self._type1(conn, table, stage_id)

    def _type1(self, conn, table, stage_id) -> None:
        """Every version of a key in the load holds the type-1 attributes of the key's newest
        export: the load's when its day is not older than the day they were last set from
        (`described_on`), so re-running an older day never brings back older values; a version
        an older day introduces copies them from its key's newest version."""
        target = sql.Identifier(table.schema, table.name)
        names = sql.SQL(", ").join(map(sql.Identifier, table.type1))

        def of(alias: str) -> sql.Composable:
            return sql.SQL(", ").join(sql.Identifier(alias, c) for c in table.type1)

        ids = dict(t=target, s=stage_id, n=sql.Identifier(table.natural_key))
        ids |= dict(k=sql.Identifier(table.key[0]), names=names)
        conn.execute(
            sql.SQL(
                """
                update {t} d set ({names}, described_on) = ({staged}, s.valid_from)
                from {s} s, (
                    select {n}, max(described_on) as described_on from {t}
                    where {n} in (select {n} from {s}) group by {n}
                ) newest
                where d.{n} = s.{n} and newest.{n} = s.{n} and d.{k} <> -1
                  and s.valid_from >= coalesce(newest.described_on, date '0001-01-01')
                  and (d.described_on is null or ({current}) is distinct from ({staged}))
                """
            ).format(staged=of("s"), current=of("d"), **ids)
        )
        conn.execute(
            sql.SQL(
                """
                update {t} d set ({names}, described_on) = ({newest}, newest.described_on)
                from (
                    select distinct on ({n}) * from {t}
                    where {n} in (select {n} from {s}) and described_on is not null
                    order by {n}, described_on desc
                ) newest
                where d.{n} = newest.{n} and d.{k} <> -1 and d.described_on is null
                """
            ).format(newest=of("newest"), **ids)
        )

    def _day_rows(self, conn, table: WarehouseTable, day: date) -> int:
        target = sql.Identifier(table.schema, table.name)
        if table.load == "scd2":  # versions valid on the day
            query = sql.SQL(
                "select count(*) from {} where valid_from <= %s and %s < valid_to and {} <> -1"
            ).format(target, sql.Identifier(table.key[0]))
            return conn.execute(query, (day, day)).fetchone()[0]
        if table.load == "upsert":  # the whole (small) table
            return conn.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[0]
        if table.partitioned:
            query = sql.SQL("select count(*) from {} where date_key = %s").format(target)
            return conn.execute(query, (date_key(day),)).fetchone()[0]
        query = sql.SQL("select count(*) from {} where batch_id = %s").format(target)
        return conn.execute(query, (day,)).fetchone()[0]

    # ---- data quality ----

    def record_results(self, results: list[Result], run_id: str | None) -> None:
        """Keep each rule's result for its table and day in dq.results (a re-run replaces it)."""
        self.apply_ddl()
        with self.connect() as conn, conn.cursor() as cur:
            cur.executemany(
                "insert into dq.results (batch_id, table_name, rule_id, severity, description, "
                "checked, failed, quarantined, passed, sample, run_id) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "on conflict (batch_id, table_name, rule_id) do update set "
                "severity = excluded.severity, description = excluded.description, "
                "checked = excluded.checked, failed = excluded.failed, "
                "quarantined = excluded.quarantined, passed = excluded.passed, "
                "sample = excluded.sample, run_id = excluded.run_id, checked_at = now()",
                [
                    (
                        r.day,
                        r.table,
                        r.rule_id,
                        r.severity,
                        r.description,
                        r.checked,
                        r.failed,
                        r.quarantined,
                        r.passed,
                        Jsonb(r.sample),
                        run_id,
                    )
                    for r in results
                ],
            )

    def count(self, table: WarehouseTable) -> int:
        """Rows in `table` (every day, every version), counted exactly."""
        with self.connect() as conn:
            query = sql.SQL("select count(*) from {}").format(
                sql.Identifier(table.schema, table.name)
            )
            return conn.execute(query).fetchone()[0]

    def count_keys(self, table: WarehouseTable, keys: list) -> int:
        """How many of `keys` (values of the table's one-column key) the table holds."""
        with self.connect() as conn:
            query = sql.SQL("select count(*) from {} where {} = any(%s)").format(
                sql.Identifier(table.schema, table.name), sql.Identifier(table.key[0])
            )
            return conn.execute(query, (keys,)).fetchone()[0]

    # ---- what is loaded ----

    def status(self) -> dict:
        """Per warehouse table: total rows, whether it is kept per day (a batch_id column) and
        its rows per loaded partition (batch day)."""
        self.apply_ddl()
        out: dict = {"tables": {}}
        with self.connect() as conn:
            batched = {
                (schema, name)
                for schema, name in conn.execute(
                    "select table_schema, table_name from information_schema.columns "
                    "where column_name = 'batch_id'"
                )
            }
            for table in TABLES.values():
                target = sql.Identifier(table.schema, table.name)
                rows = []
                if (table.schema, table.name) in batched:
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
                    "per_day": (table.schema, table.name) in batched,
                    "partitions": {d.isoformat(): n for d, n in rows},
                }
        return out
