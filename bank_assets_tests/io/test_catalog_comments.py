"""The catalog's descriptions in PostgreSQL, on a real embedded server (no Spark): `apply_ddl`
writes COMMENT ON every warehouse table, analyst view and column (read back from
pg_description), keeps them up to date, and the DDL reader the asset definitions use agrees
with what PostgreSQL made of sql/; the data dictionary says what the asset catalog says."""

from __future__ import annotations

import re

import dagster as dg
import psycopg

from bank_assets.analyst.dictionary import markdown
from bank_assets.builders import catalog
from bank_assets.io.warehouse import comments
from bank_assets.io.warehouse.ddl import declared_columns
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model.columns import COLUMNS
from bank_assets.model.tables import TABLES
from bank_assets_tests.builders import definitions

DESCRIBED = (
    "select n.nspname, c.relname, coalesce(a.attname, ''), d.description from pg_description d "
    "join pg_class c on c.oid = d.objoid and d.classoid = 'pg_class'::regclass "
    "join pg_namespace n on n.oid = c.relnamespace "
    "left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid "
    "where n.nspname = %s and c.relname = %s"
)


def described(conn, schema: str, table: str) -> dict[str, str]:
    """Column ('' for the table itself) -> its comment, as pg_description holds it."""
    return {column: text for _, _, column, text in conn.execute(DESCRIBED, (schema, table))}


def test_apply_ddl_comments_every_table_view_and_column(pg_dsn):
    Warehouse(pg_dsn).apply_ddl()
    with psycopg.connect(pg_dsn) as conn:
        fact = described(conn, "dw", "fact_transactions")
        assert fact.pop("") == TABLES["dw.fact_transactions"].described
        assert fact["amount_eur"] == COLUMNS["amount_eur"]
        assert fact["fraud_score"] == "Fraud score 0-1 (noisy-or of the rules that fired)"
        assert set(fact) == {c.name for c in declared_columns()["dw.fact_transactions"]}
        for table in TABLES.values():
            have = described(conn, table.schema, table.name)
            assert have.pop("") == table.described, table.qualified
            assert have == {c.name: COLUMNS[c.name] for c in declared_columns()[table.qualified]}, (
                table.qualified
            )
            if table.schema == "dw":  # what analysts and their BI tools read
                view = described(conn, "analyst", table.name)
                assert view.pop("") == table.described
                assert view == have, table.name
        # the private tables of loads (schema staging) get none
        nothing = conn.execute(
            "select count(*) from pg_description d join pg_class c on c.oid = d.objoid "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'staging'"
        ).fetchone()[0]
        assert nothing == 0


def test_comments_are_idempotent_and_restored(pg_dsn):
    Warehouse(pg_dsn).apply_ddl()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert comments.statements(conn) == []  # up to date: nothing written again
        conn.execute("comment on column dw.fact_transactions.amount_eur is 'edited by hand'")
        conn.execute("comment on table quarantine.loans is null")
        assert len(comments.statements(conn)) == 2
    Warehouse(pg_dsn).apply_ddl()  # the next start brings them back to the registry's
    with psycopg.connect(pg_dsn) as conn:
        assert described(conn, "dw", "fact_transactions")["amount_eur"] == COLUMNS["amount_eur"]
        assert described(conn, "quarantine", "loans")[""] == TABLES["quarantine.loans"].described


def test_a_description_with_quotes_is_written_as_text(pg_dsn, monkeypatch):
    tricky = "It's a 'quoted'; -- comment $$ and \\ backslash"
    monkeypatch.setitem(COLUMNS, "amount_eur", tricky)
    Warehouse(pg_dsn).apply_ddl()
    with psycopg.connect(pg_dsn) as conn:
        assert described(conn, "dw", "fact_transactions")["amount_eur"] == tricky
        assert described(conn, "dw", "fact_transactions")["amount"] == COLUMNS["amount"]


def test_the_ddl_reader_agrees_with_postgresql(pg_dsn):
    Warehouse(pg_dsn).apply_ddl()
    with psycopg.connect(pg_dsn) as conn:
        for qualified in TABLES:
            actual = conn.execute(
                "select a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '', "
                "not a.attnotnull from pg_attribute a where a.attrelid = %s::regclass "
                "and a.attnum > 0 and not a.attisdropped order by a.attnum",
                (qualified,),
            ).fetchall()
            declared = [
                (c.name, c.type, c.generated, c.nullable) for c in declared_columns()[qualified]
            ]
            assert declared == actual, qualified


def test_the_data_dictionary_says_what_the_asset_catalog_says(pg_dsn):
    graph = definitions().resolve_asset_graph()
    text = markdown(pg_dsn)
    sections = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    assert set(sections) == set(TABLES)
    by_table = {
        graph.get(k).metadata[catalog.TABLE_NAME].removeprefix("bank."): graph.get(k)
        for k in graph.get_all_asset_keys()
        if k.path[0] == "warehouse"
    }
    for qualified, section in sections.items():
        rows = re.findall(r"^\| (\w+) \| [^|]+ \| (.*) \|$", section, re.M)[1:]  # no header
        schema: dg.TableSchema = by_table[qualified].metadata[catalog.SCHEMA]
        assert rows == [(c.name, c.description) for c in schema.columns], qualified
        assert all(description for _, description in rows)
        assert TABLES[qualified].described in section
