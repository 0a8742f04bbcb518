"""The warehouse's DDL as a migration ledger: where the SQL files are, and applying them once.

The numbered files at the top of `sql/` (`NNN_what_it_does.sql`) are migrations: each is
applied once, in order, in its own transaction, and recorded in `public.schema_migrations`
(version, name, sha256, applied_at). A change to the tables is a new numbered file; an applied
file is never edited (its checksum is compared on every start, a changed one is refused).
The views (`sql/views`) and grants (`sql/access`) are definitions, not migrations: the loader
re-applies them every time (`Warehouse.apply_ddl`).

A warehouse created before the ledger (tables, no ledger) is baselined by applying the files up
to 050 once more and recording them: they are idempotent (`if not exists`, and the `add column
if not exists` lines that brought older warehouses up to date, kept for that reason), as every
load applied them before the ledger, so such a warehouse ends the same as a fresh one. Files
from 060 on run exactly once and need not be idempotent.

A small ledger of our own rather than yoyo-migrations: the loader already holds the psycopg
connection and the DDL advisory lock, and the whole ledger is the function `migrate`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import psycopg

MIGRATION_NAME = re.compile(r"([0-9]{3})_[a-z0-9_]+\.sql")


class MigrationError(RuntimeError):
    """The warehouse's ledger disagrees with the migration files; the message says how to fix."""


def sql_dir() -> Traversable:
    """The SQL files: `bank_assets/sql`, a symbolic link to the top-level `sql/` in a checkout
    (editable install, PYTHONPATH), installed with the package as its data otherwise."""
    return resources.files("bank_assets") / "sql"


def sql_files(folder: Traversable) -> list[Traversable]:
    """The .sql files directly in `folder`, by name."""
    files = [f for f in folder.iterdir() if f.is_file() and f.name.endswith(".sql")]
    return sorted(files, key=lambda f: f.name)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file's name
    text: str
    sha256: str


def migrations(folder: Traversable) -> list[Migration]:
    """The numbered files of `folder`, in order."""
    found: dict[int, Migration] = {}
    for f in sql_files(folder):
        match = MIGRATION_NAME.fullmatch(f.name)
        if not match:
            raise MigrationError(f"sql/{f.name} is not named NNN_what_it_does.sql (a migration)")
        version, data = int(match[1]), f.read_bytes()
        if version in found:
            raise MigrationError(
                f"sql/{found[version].name} and sql/{f.name} share the number {match[1]}: "
                "renumber the newer one"
            )
        found[version] = Migration(version, f.name, data.decode(), hashlib.sha256(data).hexdigest())
    return [found[v] for v in sorted(found)]


def migrate(conn: psycopg.Connection, folder: Traversable) -> list[str]:
    """Apply the migrations of `folder` the ledger does not hold, each in its own transaction;
    the names applied. `conn` is in autocommit mode and holds the DDL lock. Refused, before
    anything runs: an applied file that changed, an applied version without its file."""
    files = migrations(folder)
    conn.execute(
        "create table if not exists public.schema_migrations ("
        "version integer primary key, name text not null, sha256 text not null, "
        "applied_at timestamptz not null default now())"
    )
    applied = {
        version: (name, sha256)
        for version, name, sha256 in conn.execute(
            "select version, name, sha256 from public.schema_migrations"
        )
    }
    known = {m.version: m for m in files}
    for version, (name, sha256) in sorted(applied.items()):
        m = known.get(version)
        if m is None:
            raise MigrationError(
                f"this warehouse has migration {name} applied, which sql/ does not have: it was "
                "migrated by a newer bank_assets; use that version"
            )
        if m.sha256 != sha256:
            raise MigrationError(
                f"sql/{m.name} changed after it was applied to this warehouse (sha256 "
                f"{sha256[:12]}... then, {m.sha256[:12]}... now): an applied migration is never "
                f"edited; restore it and add the change as a new migration numbered after "
                f"sql/{files[-1].name}"
            )
    done = []
    for m in files:
        if m.version in applied:
            continue
        with conn.transaction():
            conn.execute(m.text)
            conn.execute(
                "insert into public.schema_migrations (version, name, sha256) values (%s, %s, %s)",
                (m.version, m.name, m.sha256),
            )
        done.append(m.name)
    return done
