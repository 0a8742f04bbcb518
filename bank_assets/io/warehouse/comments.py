"""PostgreSQL's comments on the warehouse tables and their columns (`COMMENT ON`), from the
registries the code uses: the table's grain and load (`model/tables.py`) and each column's
description (`model/columns.py`), so `\\d+ dw.fact_transactions` and a BI tool's catalog say what
the data dictionary and the Dagster catalog say. On the `dw` and `quarantine` tables and the
analyst schema's views of them (what analysts and their tools read).

Written by `Warehouse.apply_ddl` every time, like the views: the descriptions live in code and
change with it, which a migration (applied once, never edited) could not follow. Only the
comments that differ from the catalog's are written, so an up-to-date warehouse gets none.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from bank_assets.model.columns import COLUMNS
from bank_assets.model.tables import TABLES

# (schema, relation, column or None for the relation itself) -> comment
Comments = dict[tuple[str, str, str | None], str]


def wanted(conn: psycopg.Connection) -> Comments:
    """The comments the registry gives every table and analyst view, and each of its columns
    that PostgreSQL has (a column without a description gets none)."""
    relations = {(t.schema, t.name): t.described for t in TABLES.values()}
    relations |= {("analyst", t.name): t.described for t in TABLES.values() if t.schema == "dw"}
    out: Comments = {}
    for (schema, name), described in relations.items():
        out[(schema, name, None)] = described
        for (column,) in conn.execute(
            "select attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped",
            (schema, name),
        ):
            if column in COLUMNS:
                out[(schema, name, column)] = COLUMNS[column]
    return out


def present(conn: psycopg.Connection) -> Comments:
    """The comments PostgreSQL holds on the relations of the warehouse's schemas."""
    return {
        (schema, name, column): text
        for schema, name, column, text in conn.execute(
            "select n.nspname, c.relname, a.attname, d.description from pg_description d "
            "join pg_class c on c.oid = d.objoid and d.classoid = 'pg_class'::regclass "
            "join pg_namespace n on n.oid = c.relnamespace "
            "left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid "
            "where n.nspname in ('dw', 'quarantine', 'analyst') "
            "and (d.objsubid = 0 or a.attname is not null)"
        )
    }


def statements(conn: psycopg.Connection) -> list[sql.Composable]:
    """The COMMENT statements that bring the warehouse's comments to the registry's."""
    have = present(conn)
    out = []
    for (schema, name, column), text in sorted(wanted(conn).items(), key=str):
        if have.get((schema, name, column)) == text:
            continue
        if column is None:
            kind = "view {}" if schema == "analyst" else "table {}"
            target = sql.SQL(kind).format(sql.Identifier(schema, name))
        else:
            target = sql.SQL("column {}").format(sql.Identifier(schema, name, column))
        out.append(sql.SQL("comment on {} is {}").format(target, sql.Literal(text)))
    return out
