"""The warehouse tables' columns and types as the migrations in `sql/` declare them, read from
the files without a server.

The asset definitions show each warehouse table's columns (`dagster/column_schema`) when the
code location loads, which must never need PostgreSQL (or Spark); the files are the schema's
source, so they are read instead: each `create table` of a migration, then its `alter table ...
add column` lines, in migration order. Only the forms `sql/` uses are understood; a test
compares the result with what PostgreSQL reports after `apply_ddl` (io/test_catalog_comments),
so a form this reader gets wrong fails there, not in the UI.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bank_assets.io.warehouse.migrations import migrations, sql_dir
from bank_assets.model.sources import SOURCES


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as PostgreSQL's format_type shows it, e.g. "numeric(18,2)", "character(3)"
    generated: bool = False
    nullable: bool = True


# the spellings sql/ uses -> PostgreSQL's own names (format_type)
_CANONICAL = {
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "bool": "boolean",
    "timestamptz": "timestamp with time zone",
    "char": "character",
    "varchar": "character varying",
}
_CONSTRAINTS = {"check", "primary", "unique", "exclude", "constraint", "foreign"}
_CREATE = re.compile(r"create table (?:if not exists )?([a-z_]+\.[a-z_]+) \(", re.I)
_ALTER = re.compile(r"alter table (?:if exists )?([a-z_]+\.[a-z_]+) (.*)", re.I | re.S)
_ADD = re.compile(r"add column (?:if not exists )?([a-z_0-9]+) (.*)", re.I | re.S)
_TYPE = re.compile(r"([a-z_0-9]+)\s*(\([0-9, ]+\))?", re.I)


def _split(text: str) -> list[str]:
    """`text` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p.strip() for p in [*parts, text[start:]] if p.strip()]


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis closing the one opened just before `start`."""
    depth = 1
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise ValueError("unbalanced parentheses")


def _column(name: str, rest: str, key: set[str]) -> Column:
    match = _TYPE.match(rest)
    base, size = match[1].lower(), (match[2] or "").replace(" ", "")
    lower = rest.lower()
    required = "not null" in lower or "primary key" in lower or name.lower() in key
    kind = _CANONICAL.get(base, base) + size
    return Column(name.lower(), kind, "generated always as" in lower, nullable=not required)


def _primary_key(items: list[str]) -> set[str]:
    """The columns of a table-level `primary key (...)` (not null, as PostgreSQL makes them)."""
    for item in items:
        if item.lower().startswith("primary key"):
            return {c.strip().lower() for c in item[item.index("(") + 1 : -1].split(",")}
    return set()


def _statements(text: str) -> list[str]:
    text = re.sub(r"--[^\n]*", "", text)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)  # function bodies: not table DDL
    return [" ".join(s.split()) for s in text.split(";") if s.strip()]


@functools.cache
def declared_columns() -> dict[str, tuple[Column, ...]]:
    """Qualified table -> its columns in table order, for every table the migrations create,
    and one quarantine table per source (created like quarantine.transactions by apply_ddl)."""
    tables: dict[str, list[Column]] = {}
    for migration in migrations(sql_dir()):
        for statement in _statements(migration.text):
            if created := _CREATE.match(statement):
                items = _split(statement[created.end() : _closing(statement, created.end())])
                key = _primary_key(items)
                tables[created[1]] = [
                    _column(*item.split(" ", 1), key)
                    for item in items
                    if item.split(" ", 1)[0].lower() not in _CONSTRAINTS
                ]
            elif altered := _ALTER.match(statement):
                for action in _split(altered[2]):
                    added = _ADD.match(action)
                    known = {c.name for c in tables.get(altered[1], [])}
                    if added and added[1] not in known:
                        tables[altered[1]].append(_column(added[1], added[2], set()))
    for source in SOURCES:
        tables.setdefault(f"quarantine.{source}", list(tables["quarantine.transactions"]))
    return {name: tuple(columns) for name, columns in tables.items()}
