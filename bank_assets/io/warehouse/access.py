"""Least privilege: the three database roles, what analysts may see, private files.

Roles (the same names in the embedded default and in docker-compose, docker/postgres-init.sh):

  bank_loader   owns the warehouse schemas (dw, quarantine, dq, staging, analyst): applies the
                DDL and loads. The pipeline's WarehouseResource connects as it.
  bank_dagster  owns the `dagster` database (instance storage) only; cannot connect to the
                warehouse database.
  bank_analyst  `bank-assets query` / `dq`: USAGE on the `analyst` schema only, SELECT there.
                That schema holds one view per warehouse table with personal data masked (names
                to initials, IBANs and e-mails masked, free text and street redacted, birth date
                to the year) and the friendly views of sql/views. No privilege on dw, dq,
                quarantine or staging, no CREATE anywhere, no temporary tables.

The views are generated from the catalogue (`MASKED`, `HIDDEN`) on every `apply_ddl`, so a
new warehouse table gets its analyst view, and default privileges grant the analyst SELECT on
it. A new column holding personal data must be added to `MASKED`.
"""

from __future__ import annotations

import os

import psycopg
from psycopg import sql

LOADER = "bank_loader"
DAGSTER = "bank_dagster"
ANALYST = "bank_analyst"

# column -> masking function of sql/050_access.sql
MASKED: dict[tuple[str, str], dict[str, str]] = {
    ("dw", "dim_clients"): {
        "first_name": "mask_name",
        "last_name": "mask_name",
        "email": "mask_email",
        "birth_date": "mask_birth_date",
        "address_line": "redact",
    },
    ("dw", "dim_accounts"): {"iban": "mask_iban"},
    ("dw", "fact_transactions"): {"counterparty_iban": "mask_iban", "description": "redact"},
    ("dw", "dim_satisfaction"): {"comment": "redact"},
}
# tables analysts see besides dw, and columns they never see (the failing rows' values)
EXPOSED = {("dq", "results"): "dq_results", ("dq", "alerts"): "dq_alerts"}
HIDDEN: dict[tuple[str, str], set[str]] = {
    ("dq", "results"): {"sample"},
    ("dq", "alerts"): {"details"},  # free-form JSON of whoever raised it
}


def private_umask() -> None:
    """Files and directories this process creates are its user's only (0600 / 0700): the lake,
    the Dagster home and the server's data hold client names, e-mails and addresses. Child
    processes (Spark's JVM and Python workers, the server) inherit it."""
    os.umask(0o077)


def analyst_views(conn: psycopg.Connection, tables: list[str]) -> list[sql.Composable]:
    """One `create or replace view analyst.<table>` per warehouse table of `tables` (names in
    dw, from the registry: never a day's partition or a load's private table, which a view would
    keep from being dropped)."""
    tables = [("dw", name) for name in sorted(tables)]
    statements = []
    for schema, name in [*tables, *EXPOSED]:
        columns = conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 "
            "and not attisdropped order by attnum",
            (sql.Identifier(schema, name).as_string(conn),),
        ).fetchall()
        masks = MASKED.get((schema, name), {})
        hidden = HIDDEN.get((schema, name), set())
        select = [
            sql.SQL("analyst.{}({}) as {}").format(
                sql.Identifier(masks[c]), sql.Identifier(c), sql.Identifier(c)
            )
            if c in masks
            else sql.Identifier(c)
            for (c,) in columns
            if c not in hidden
        ]
        statements.append(
            sql.SQL("create or replace view {} as select {} from {}").format(
                sql.Identifier("analyst", EXPOSED.get((schema, name), name)),
                sql.SQL(", ").join(select),
                sql.Identifier(schema, name),
            )
        )
    return statements


def database_grants(conn: psycopg.Connection) -> list[sql.Composable]:
    """Who may connect to the warehouse database: its owner (the loader) and the analyst."""
    database = sql.Identifier(conn.execute("select current_database()").fetchone()[0])
    return [
        sql.SQL("revoke all on database {} from public").format(database),
        sql.SQL("grant connect on database {} to {}").format(database, sql.Identifier(ANALYST)),
    ]
