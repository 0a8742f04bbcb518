"""Where are raw card numbers stored? `bank-assets scan-cards` looks everywhere the pipeline
writes, with the one definition of a card number (model/cards.py).

  lake       every Parquet file under raw/, staged/, quarantine/ and curated/: every string
             column of every row (screened by the vectorized prefilter, candidates checked)
  warehouse  every text, varchar, char, json, jsonb (and array of them) column of every table
             of every schema of the warehouse database (screened by the same prefilter as a
             PostgreSQL regular expression, candidates checked), and so the Dagster instance's
             database when it is given (its event log holds the run's logs and check metadata)
  landing    (only when asked) the source systems' own CSV / JSON lines files and manifests:
             the pipeline never writes them, and card numbers in them are masked as they land,
             so they are reported apart and only with `include_landing`

Skipped: the digests the pipeline computes itself (`HASH_COLUMNS`: hex digests of the row,
which can hold no card number, and whose rare all-digit values would look like one).

A finding names the place (zone/table/file or schema.table.column), a row locator (row of the
file, line of the landing file, or the table's primary key) and the number MASKED: the scan
never prints a raw card number either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bank_assets.io.lake import Lake
from bank_assets.model import cards
from bank_assets.model.keys import BATCH_ROWS

PIPELINE_ZONES = ("raw", "staged", "quarantine", "curated")
LANDING_ZONE = "landing"
HASH_COLUMNS = ("record_hash", "row_hash")


@dataclass(frozen=True)
class Finding:
    place: str  # "lake staged/transactions/.../part-x.parquet" | "warehouse dw.fact_x.col"
    locator: str  # "row 12 column description" | "line 3" | "transaction_id=TX..."
    masked: str  # the card number, masked

    def __str__(self) -> str:
        return f"{self.place} {self.locator}: {self.masked}"


@dataclass
class Scanned:
    """What a scan covered (for its one-line summary)."""

    files: int = 0
    columns: int = 0
    databases: tuple[str, ...] = ()


def _lake_files(lake: Lake, zone: str) -> list[pafs.FileInfo]:
    selector = pafs.FileSelector(lake.abspath(zone), recursive=True, allow_not_found=True)
    infos = lake.fs.get_file_info(selector)
    return sorted((i for i in infos if i.type == pafs.FileType.File), key=lambda i: i.path)


def scan_parquet(lake: Lake, info: pafs.FileInfo) -> Iterator[Finding]:
    parquet = pq.ParquetFile(lake.fs.open_input_file(info.path))
    text = [
        f.name
        for f in parquet.schema_arrow
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and f.name not in HASH_COLUMNS
    ]
    if not text:
        return
    offset = 0
    for batch in parquet.iter_batches(columns=text, batch_size=BATCH_ROWS):
        for name in text:
            column = batch.column(name)
            for i in cards.candidates(column):
                for masked in cards.found_masked(column[int(i)].as_py()):
                    locator = f"row {offset + int(i) + 1} column {name}"
                    yield Finding(f"lake {lake.relative(info.path)}", locator, masked)
        offset += batch.num_rows


def scan_text_file(lake: Lake, info: pafs.FileInfo) -> Iterator[Finding]:
    with lake.fs.open_input_stream(info.path) as f:
        lines = f.read().decode("utf-8", "replace").split("\n")
    for i in cards.candidates(pa.array(lines, pa.string())):
        for masked in cards.found_masked(lines[int(i)]):
            yield Finding(f"landing {lake.relative(info.path)}", f"line {int(i) + 1}", masked)


def scan_lake(lake: Lake, scanned: Scanned, include_landing: bool = False) -> Iterator[Finding]:
    """Every Parquet file of the pipeline's zones (and the landing files when asked)."""
    for zone in PIPELINE_ZONES:
        for info in _lake_files(lake, zone):
            if info.path.endswith(".parquet"):
                scanned.files += 1
                yield from scan_parquet(lake, info)
    if include_landing:
        for info in _lake_files(lake, LANDING_ZONE):
            scanned.files += 1
            yield from scan_text_file(lake, info)


# Text columns of the ordinary and partitioned tables (a partition's rows are read through its
# parent), outside PostgreSQL's own schemas.
TEXT_COLUMNS = """
select n.nspname, c.relname, a.attname
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
left join pg_type e on e.oid = t.typelem and t.typcategory = 'A'
where c.relkind in ('r', 'p') and not c.relispartition
  and a.attnum > 0 and not a.attisdropped
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
  and (t.typcategory = 'S' or t.typname in ('json', 'jsonb')
       or e.typcategory = 'S' or e.typname in ('json', 'jsonb'))
order by 1, 2, a.attnum
"""

PRIMARY_KEY = """
select a.attname from pg_index i
join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
where i.indrelid = %s::regclass and i.indisprimary
order by array_position(i.indkey, a.attnum)
"""


def scan_database(dsn: str, label: str, scanned: Scanned) -> Iterator[Finding]:
    """Every text column of every table of the database at `dsn`."""
    with psycopg.connect(dsn) as conn:
        columns = conn.execute(TEXT_COLUMNS).fetchall()
        keys: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in columns:
            if column in HASH_COLUMNS:
                continue
            scanned.columns += 1
            if (schema, table) not in keys:
                regclass = sql.Identifier(schema, table).as_string(conn)
                keys[schema, table] = [r[0] for r in conn.execute(PRIMARY_KEY, (regclass,))]
            key = keys[schema, table] or ["ctid"]
            query = sql.SQL("select {key}, {col}::text from {table} where {col}::text ~ %s").format(
                key=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in key),
                col=sql.Identifier(column),
                table=sql.Identifier(schema, table),
            )
            for *values, text in conn.execute(query, (cards.PREFILTER,)):
                locator = ", ".join(f"{k}={cards.masked(v)}" for k, v in zip(key, values))
                for masked in cards.found_masked(text):
                    yield Finding(f"{label} {schema}.{table}.{column}", locator, masked)
    scanned.databases += (label,)


def dagster_database(warehouse_dsn: str, dagster_pg_url: str | None) -> str | None:
    """The Dagster instance's database (DAGSTER_PG_URL, or the embedded default's, as the
    Dagster role: the loader may not connect to it); None when there is none or it is the
    warehouse database itself (scanned already)."""
    if not dagster_pg_url:
        return None
    dsn = dagster_pg_url.replace("postgresql+psycopg2://", "postgresql://", 1)

    def where(d: str) -> tuple:
        info = conninfo_to_dict(d)
        return info.get("host"), str(info.get("port") or ""), info.get("dbname")

    return None if where(dsn) == where(warehouse_dsn) else dsn
