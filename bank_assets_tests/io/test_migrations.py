"""The migration ledger on a real embedded PostgreSQL server (no Spark): each numbered file of
sql/ applied once and recorded, edited files refused, new files applied, pre-ledger warehouses
baselined."""

from __future__ import annotations

import hashlib
import shutil
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from bank_assets.io.warehouse import migrations
from bank_assets.io.warehouse.embedded import embedded_postgres_dsn
from bank_assets.io.warehouse.loader import SQL_DIR, Warehouse
from bank_assets.io.warehouse.migrations import MigrationError, migrate

REPO_SQL = Path(__file__).resolve().parents[2] / "sql"
NUMBERED = sorted(p.name for p in REPO_SQL.glob("[0-9][0-9][0-9]_*.sql"))


def rows(dsn: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def ledger(dsn: str) -> list[tuple]:
    return rows(dsn, "select version, name, sha256, applied_at from schema_migrations order by 1")


def shape(dsn: str) -> list[tuple]:
    """Every column of the warehouse schemas (what a migration changes)."""
    return rows(
        dsn,
        "select table_schema, table_name, column_name, data_type, column_default "
        "from information_schema.columns where table_schema in "
        "('dw', 'dq', 'quarantine', 'staging', 'analyst') order by 1, 2, 3",
    )


def apply(dsn: str, folder: Path) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return migrate(conn, folder)


@pytest.fixture()
def sql_copy(tmp_path) -> Path:
    """The repository's migrations in a folder a test may change."""
    folder = tmp_path / "sql"
    folder.mkdir()
    for name in NUMBERED:
        shutil.copyfile(REPO_SQL / name, folder / name)
    return folder


def test_the_loader_reads_the_checkouts_sql():
    assert Path(str(SQL_DIR)).resolve() == REPO_SQL
    assert [m.name for m in migrations.migrations(SQL_DIR)] == NUMBERED


def test_a_fresh_warehouse_gets_every_migration_once_and_the_ledger_lists_them(pg_dsn):
    Warehouse(pg_dsn).apply_ddl()
    recorded = ledger(pg_dsn)
    assert [name for _, name, _, _ in recorded] == NUMBERED
    assert [v for v, *_ in recorded] == [int(n[:3]) for n in NUMBERED]
    for _, name, sha256, _ in recorded:
        assert sha256 == hashlib.sha256((REPO_SQL / name).read_bytes()).hexdigest()
    # the first real migration: French holidays on dim_dates, its analyst view following
    columns = rows(
        pg_dsn,
        "select column_name from information_schema.columns where table_schema = %s "
        "and table_name = 'dim_dates' and column_name like '%%french%%' order by 1",
        ("analyst",),
    )
    assert columns == [("french_holiday_name",), ("is_french_holiday",)]


def test_applying_twice_changes_nothing(pg_dsn):
    Warehouse(pg_dsn).apply_ddl()
    before = (ledger(pg_dsn), shape(pg_dsn))
    Warehouse(pg_dsn).apply_ddl()  # a new process: views and grants again, no migration
    assert (ledger(pg_dsn), shape(pg_dsn)) == before
    assert apply(pg_dsn, SQL_DIR) == []


def test_two_loaders_starting_together_apply_each_migration_once(pg_dsn):
    errors = []

    def start():
        try:
            Warehouse(pg_dsn).apply_ddl()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [name for _, name, _, _ in ledger(pg_dsn)] == NUMBERED


def test_an_edited_applied_migration_is_refused_naming_the_file(pg_dsn, sql_copy):
    apply(pg_dsn, sql_copy)
    before = (ledger(pg_dsn), shape(pg_dsn))
    edited = sql_copy / "011_dim_clients.sql"
    edited.write_text(edited.read_text() + "alter table dw.dim_clients add column nickname text;\n")
    with pytest.raises(MigrationError, match=r"sql/011_dim_clients\.sql changed.*new migration"):
        apply(pg_dsn, sql_copy)
    assert (ledger(pg_dsn), shape(pg_dsn)) == before  # nothing ran


def test_a_new_migration_is_applied_once(pg_dsn, sql_copy):
    apply(pg_dsn, sql_copy)
    (sql_copy / "900_dim_clients_nickname.sql").write_text(
        # not idempotent: a second run would fail
        "alter table dw.dim_clients add column nickname text;\n"
    )
    assert apply(pg_dsn, sql_copy) == ["900_dim_clients_nickname.sql"]
    assert apply(pg_dsn, sql_copy) == []
    assert ledger(pg_dsn)[-1][:2] == (900, "900_dim_clients_nickname.sql")
    assert ("nickname",) in rows(
        pg_dsn,
        "select column_name from information_schema.columns where table_name = 'dim_clients'",
    )


def test_a_failing_migration_leaves_the_previous_ones_applied(pg_dsn, sql_copy):
    (sql_copy / "900_broken.sql").write_text(
        "create table dw.half_done (id int);\nselect no_such_function();\n"
    )
    with pytest.raises(psycopg.errors.UndefinedFunction):
        apply(pg_dsn, sql_copy)
    assert [name for _, name, _, _ in ledger(pg_dsn)] == NUMBERED  # each in its transaction
    assert rows(pg_dsn, "select to_regclass('dw.half_done')") == [(None,)]


def test_a_warehouse_migrated_by_a_newer_version_is_refused(pg_dsn, sql_copy):
    (sql_copy / "900_later.sql").write_text("select 1;\n")
    apply(pg_dsn, sql_copy)
    (sql_copy / "900_later.sql").unlink()
    with pytest.raises(MigrationError, match=r"900_later\.sql applied.*newer"):
        apply(pg_dsn, sql_copy)


def test_migrations_are_numbered_once(sql_copy):
    (sql_copy / "060_other.sql").write_text("select 1;\n")
    with pytest.raises(MigrationError, match="share the number 060"):
        migrations.migrations(sql_copy)
    (sql_copy / "060_other.sql").unlink()
    (sql_copy / "patch.sql").write_text("select 1;\n")
    with pytest.raises(MigrationError, match=r"sql/patch\.sql is not named"):
        migrations.migrations(sql_copy)


def test_a_warehouse_from_before_the_ledger_is_baselined_keeping_its_rows(pg_data, pg_dsn):
    """Before the ledger every load applied the files up to 050 again (idempotent, with `add
    column if not exists` lines for older warehouses); such a warehouse, here one from before
    dq.alerts had a subject and dim_clients type-1 attributes, ends as a fresh one, rows kept."""
    baseline = [name for name in NUMBERED if int(name[:3]) <= 50]
    with psycopg.connect(pg_dsn) as conn:  # what apply_ddl did then: every file, no ledger
        for name in baseline:
            conn.execute((REPO_SQL / name).read_text())
        conn.execute("drop index dq.alerts_once, dq.alerts_once_per_subject")
        conn.execute("alter table dq.alerts drop column subject")
        conn.execute("alter table dw.dim_clients drop column described_on")
        conn.execute(
            "insert into dw.dim_clients (client_key, client_id, row_hash, valid_from) "
            "values (1, 'C1', 'h', '2026-01-01')"
        )
        conn.execute(
            "insert into dq.alerts (kind, severity, message) values ('run_failure', 'fatal', 'x')"
        )
    Warehouse(pg_dsn).apply_ddl()
    assert [name for _, name, _, _ in ledger(pg_dsn)] == NUMBERED
    assert rows(
        pg_dsn, "select client_id, described_on from dw.dim_clients where client_key = 1"
    ) == [("C1", None)]
    assert rows(pg_dsn, "select subject, message from dq.alerts") == [("", "x")]
    fresh = embedded_postgres_dsn(pg_data, f"test_{uuid.uuid4().hex[:10]}")
    Warehouse(fresh).apply_ddl()
    assert shape(pg_dsn) == shape(fresh)
    indexes = "select indexname, indexdef from pg_indexes where schemaname = 'dq' order by 1"
    assert rows(pg_dsn, indexes) == rows(fresh, indexes)
