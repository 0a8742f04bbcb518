"""Driver-side helpers that read and write the lake's day tables through Spark."""

from __future__ import annotations

import bisect
import contextlib
import heapq
import itertools
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.types import StructType

from bank_assets.io import landing
from bank_assets.io.lake import Lake, LakeError, day_path, manifest_path
from bank_assets.io.spark.lake_source import (
    LandingDataSource,
    LandingFormatError,
    keep_only,
    plan_splits,
    remove_run,
    split_starts,
)
from bank_assets.io.spark.warehouse_copy import FAULT_CONF, WarehouseCopy
from bank_assets.io.warehouse.loader import COPY_CONNECTIONS, keep_committed, open_ledger
from bank_assets.model import staging


@dataclass(frozen=True)
class Written:
    """What a lake write produced: the figures that go into materialization metadata."""

    rows: int
    bytes: int
    files: int
    uri: str
    cards_masked: dict[str, int] = field(default_factory=dict)  # landing: per landing file


def land_raw(
    spark: SparkSession | Callable[[], SparkSession],
    lake: Lake,
    table: str,
    day: date,
    file_format: str,
    schema: StructType,
    manifest: dict | None = None,
    snapshot: bool = False,
    split_bytes: int = landing.SPLIT_BYTES,
) -> tuple[Written, list[str]]:
    """Replace the raw day of `table` with the day's landing files, parsed and written as
    Parquet by Spark tasks: one per file, or one per `split_bytes` of a larger file (see
    io/spark/lake_source.py); what was written (with the card numbers masked in each landing
    file, model/cards.py), and the landing files. The older raw files go only once every file
    landed.

    With the table's `manifest` entry (Lake.manifest_table) the files must be exactly the
    listed ones and not empty where that cannot be right (io/landing.py; `snapshot`: a full
    daily snapshot). A file that cannot be landed raises an error naming it (LandingFileError,
    LandingFormatError) and leaves the raw day as it was.

    Files of at most LOCAL_LAND_BYTES in all are landed here by the data source's own reader,
    without Spark: `spark` may be a function that gives the session, so landing a small source
    does not wait for a session still starting (SparkResource starts it in the background)."""
    relative = day_path("landing", table, day)
    infos = lake.files(relative, "" if manifest is not None else f".{file_format}")
    if manifest is not None:
        present = {lake.relative(i.path): i.size for i in infos}
        landing.check_listing(present, manifest, manifest_path(day), table, snapshot)
    if not infos:
        raise LakeError(f"no {file_format} files for {table} on {day} under {lake.uri(relative)}")
    files = [
        {
            "path": lake.relative(i.path),
            "landed_at": i.mtime.astimezone(UTC).isoformat(),
            "size": i.size,
        }
        for i in infos
    ]
    lake.ensure_ready()
    target, run_id = day_path("raw", table, day), uuid.uuid4().hex[:12]

    def land(parts: list[dict]) -> list:
        options = {
            "lake": lake.config.to_json(),
            "files": json.dumps(parts),
            "format": file_format,
            "schema": schema.json(),
            "dir": target,
            "run_id": run_id,
        }
        if sum(p["split"]["end"] - p["split"]["start"] for p in parts) <= LOCAL_LAND_BYTES:
            reader = LandingDataSource(options).reader(None)
            return [dict(zip(LANDED, r)) for p in reader.partitions() for r in reader.read(p)]
        return _session(spark).read.format("bank_landing").options(**options).load().collect()

    try:
        landed = land(_splits(spark, lake, files, file_format, split_bytes))
        if irregular := {r["source_file"] for r in landed if r["irregular"]}:
            # a split's borders need standard quoting: such a file lands whole, as written
            for r in landed:
                if r["source_file"] in irregular and r["path"]:
                    lake.fs.delete_file(r["path"])
            landed = [r for r in landed if r["source_file"] not in irregular]
            landed += land([_whole(f) for f in files if f["path"] in irregular])
        first_error = {}  # a file's error as its first split found it (the same as unsplit)
        for r in sorted(landed, key=lambda r: r["start"]):
            if r["error"]:
                first_error.setdefault(r["source_file"], r["error"])
        if first_error:
            raise LandingFormatError("\n".join(sorted(first_error.values())))
        rows, masked = Counter(), Counter()
        for r in landed:
            rows[r["source_file"]] += r["rows"]
            masked[r["source_file"]] += r["cards_masked"]
        if manifest is not None:
            first_line = 2 if file_format == "csv" else 1
            landing.check_records(rows, manifest, manifest_path(day), table, snapshot, first_line)
    except Exception:
        remove_run(lake.fs, lake.abspath(target), run_id)
        raise
    keep_only(lake.fs, lake.abspath(target), {r["path"] for r in landed})
    return replace(_written(lake, target), cards_masked=dict(masked)), [f["path"] for f in files]


# Landing files of at most this many bytes in all (one source's day) are parsed on the driver by
# the landing data source's reader, as a Spark task would parse them (io/spark/lake_source.py):
# no job, and no wait for a session still starting (resources.py), for the reference and small
# master sources (a 1,000,000-posting day: fx_rates 224 B ... loans 4.1 MB; accounts 21 MB and
# the postings keep Spark's tasks, spread over the executors).
LOCAL_LAND_BYTES = 8 << 20
# the landing reader's rows (LandingDataSource.schema), by name
LANDED = ("source_file", "start", "rows", "path", "cards_masked", "error", "irregular")


def _session(spark: SparkSession | Callable[[], SparkSession]) -> SparkSession:
    return spark if isinstance(spark, SparkSession) else spark()


def _whole(file: dict) -> dict:
    """A landing file read by one task."""
    return file | {"split": {"start": 0, "end": file["size"], "lines": 0, "quotes": 0}}


def _splits(
    spark: SparkSession | Callable[[], SparkSession],
    lake: Lake,
    files: list[dict],
    file_format: str,
    split_bytes: int,
) -> list[dict]:
    """The landing tasks of `files`: one per file, one per split of a file larger than
    `split_bytes`, planned from a first pass over its ranges (`scan_range`, one task each)."""
    starts = {f["path"]: split_starts(f["size"], split_bytes) for f in files}
    ranges = [
        (f["path"], s, e)
        for f in files
        if len(starts[f["path"]]) > 1
        for s, e in zip(starts[f["path"]], [*starts[f["path"]][1:], f["size"]])
    ]
    if not ranges:
        return [_whole(f) for f in files]
    scanned = (
        _session(spark)
        .read.format("bank_landing")
        .option("lake", lake.config.to_json())
        .option("scan", json.dumps(ranges))
        .load()
        .collect()
    )
    scans = {(r["path"], r["start"]): (r["newlines"], r["quotes"], r["lone_cr"]) for r in scanned}
    parts = []
    for f in files:
        found = [scans[f["path"], s] for s in starts[f["path"]] if (f["path"], s) in scans]
        if not found:
            parts.append(_whole(f))
            continue
        plan = plan_splits(f["size"], starts[f["path"]], found, file_format == "csv")
        parts += [f | {"split": split} for split in plan]
    return parts


def read_table(
    spark: SparkSession,
    lake: Lake,
    zone: str,
    table: str,
    day: date,
    columns: Sequence[str] | None = None,
    only: tuple[str, Sequence[str]] | None = None,
) -> DataFrame:
    """One day of a lake table, with the schema its Parquet files were written with; only
    `columns` of it when given (the data source reads just those columns from the files), and
    with `only` = (column, values) just the rows holding one of the values (filtered as read)."""
    infos = _day_files(lake, zone, table, day)
    schema = from_arrow_schema(pq.read_schema(lake.fs.open_input_file(infos[0].path)))
    if columns is None:
        return _frame(spark, lake, infos, schema, only)
    schema = StructType([schema[c] for c in columns])
    return _frame(spark, lake, infos, schema, only, LOCAL_COLUMNS_BYTES)


def read_earlier(
    spark: SparkSession,
    lake: Lake,
    zone: str,
    table: str,
    day: date,
    days: int,
    columns: Sequence[str],
) -> DataFrame:
    """The `days` days before `day` of a lake table as one frame, only `columns` (days without
    files are skipped; no rows when none has any: the schema is then that of `day`)."""
    before = [day - timedelta(days=n) for n in range(1, days + 1)]
    infos = [i for d in before for i in lake.files(day_path(zone, table, d), ".parquet")]
    first = infos[0] if infos else _day_files(lake, zone, table, day)[0]
    schema = from_arrow_schema(pq.read_schema(lake.fs.open_input_file(first.path)))
    schema = StructType([schema[c] for c in columns])
    if not infos:  # an empty local relation: the plan drops what reads it (no Spark job)
        return spark.createDataFrame(to_arrow_schema(schema, timezone="UTC").empty_table(), schema)
    return _frame(spark, lake, infos, schema, limit=LOCAL_COLUMNS_BYTES)


# A day of at most this many Parquet bytes is read on the driver with pyarrow and handed to Spark
# as Arrow batches (and COPYed into PostgreSQL from the driver, copy_to_warehouse): no round of
# Python data-source workers (planning, then one task per file) for a table of a few thousand
# rows. Measured on a 100k day (2 cores, one before/after pair): the curated tables 9.8 s ->
# 6.8 s, the warehouse loads 5.7 s -> 2.3 s, the staged tables 23.0 s -> 20.9 s; on a 1M day
# (medians of 3 pairs) a small table's warehouse load 0.15-0.35 s -> 0.03-0.1 s. Up to
# 2 MiB: every small source and dimension of a 100k day and most of a 1,000,000-posting day
# (products, merchants, loans, calendar...); 100,000 postings (4.3 MB raw) and the 75,000
# accounts of a 1M day keep the data source, whose tasks spread over the executors.
LOCAL_READ_BYTES = 2 << 20
# ... and a read of a few named columns of a larger day, when those columns' compressed bytes
# are at most this: the key columns a fact looks its dimensions' keys up in, which a broadcast
# brings to the driver anyway. Up to 4 MiB, the 4 columns of the 75,000 accounts of a 1M day
# that fact_transactions reads (2.1 MB) take no Python data-source job over the wide
# dimension (docs/performance.md, session 12); the postings' fraud columns (22 MB) and key
# column (6.5 MB) of a 1M day keep the data source.
LOCAL_COLUMNS_BYTES = 4 << 20


def _frame(
    spark: SparkSession,
    lake: Lake,
    infos: list,
    schema: StructType,
    only: tuple[str, Sequence[str]] | None = None,
    limit: int | None = None,
) -> DataFrame:
    """The rows of the Parquet files `infos` as a frame of `schema` (cast as the data source
    casts), with `only` = (column, values) just the rows holding one of the values; read on the
    driver when they are at most `limit` bytes (default LOCAL_READ_BYTES)."""
    limit = LOCAL_READ_BYTES if limit is None else limit
    if _read_bytes(lake, infos, schema.names, limit) > limit:
        reader = (
            spark.read.format("bank_lake")
            .schema(schema)
            .option("lake", lake.config.to_json())
            .option("files", json.dumps([lake.relative(i.path) for i in infos]))
        )
        if only is not None:
            reader = reader.option("only", json.dumps({"column": only[0], "values": list(only[1])}))
        return reader.load()
    arrow_schema = to_arrow_schema(schema, timezone="UTC")
    parts = [
        pq.read_table(lake.fs.open_input_file(i.path), columns=arrow_schema.names) for i in infos
    ]
    rows = pa.concat_tables(p.select(arrow_schema.names).cast(arrow_schema) for p in parts)
    if only is not None:
        column, values = only
        rows = rows.filter(pc.is_in(rows[column], pa.array(list(values), rows[column].type)))
    return spark.createDataFrame(rows, schema)


# Up to this many rows, a raw day's key column is read on the driver to find its repeated keys
# (a few MB at most, as staged_before reads the keys of every lookback day): Spark's
# groupBy-count is a shuffle, so two jobs (map stage, result) of planning, codegen and a round
# of Python data-source workers for a master table of a few thousand rows. Covers every small
# source of a 1,000,000-posting day (the largest: 75,000 accounts); the postings (100,000 and
# more a day, with their re-deliveries) keep Spark's aggregate.
DRIVER_KEY_ROWS = 100_000


def repeated_in(keys: pa.ChunkedArray) -> list[str]:
    """The non-null values of `keys` that occur more than once (as staging.repeated_keys)."""
    counts = pc.value_counts(keys.drop_null())
    return counts.field("values").filter(pc.greater(counts.field("counts"), 1)).to_pylist()


def _read_bytes(lake: Lake, infos: list, columns: Sequence[str], limit: int) -> int:
    """The Parquet bytes a read of `columns` of the files `infos` reads: the files' sizes, or,
    when they are larger than `limit`, the compressed bytes of those columns as the footers
    give them (a few columns of a larger dimension, e.g. four of the 75,000 accounts of a 1M
    day: 2.1 MB of 10 MB, are read on the driver too), as far as `limit`."""
    size = sum(i.size for i in infos)
    if size <= limit:
        return size
    wanted, read = set(columns), 0
    for i in infos:
        footer = pq.ParquetFile(lake.fs.open_input_file(i.path)).metadata
        if footer.num_columns <= len(wanted):  # every column: the file's size says it
            return size
        for g in range(footer.num_row_groups):
            group = footer.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                if chunk.path_in_schema in wanted:
                    read += chunk.total_compressed_size
        if read > limit:
            return read
    return read


def read_raw(
    spark: SparkSession, lake: Lake, table: str, day: date, key: str, also: Sequence[str] = ()
) -> tuple[DataFrame, DataFrame | None]:
    """A raw day to stage, and its rows whose `key` landed more than once or is one of `also`
    (None when there are none): the repeated keys come from the key column alone and the
    reader keeps only their rows, so finding duplicates does not read the whole day a second
    time. A day of at most DRIVER_KEY_ROWS rows has its repeated keys counted on the driver
    from the key column's Parquet (`repeated_in`): no Spark job for a small source."""
    if count_rows(lake, "raw", table, day) <= DRIVER_KEY_ROWS:
        repeated = repeated_in(read_day(lake, "raw", table, day, [key])[key])
    else:
        repeated = staging.repeated_keys(read_table(spark, lake, "raw", table, day, [key]), key)
    raw = read_table(spark, lake, "raw", table, day)
    wanted = sorted({*repeated, *also})
    if not wanted:
        return raw, None
    return raw, read_table(spark, lake, "raw", table, day, only=(key, wanted))


def staged_before(
    lake: Lake, table: str, day: date, key: str, days: int
) -> dict[str, tuple[str, date]]:
    """The raw day's `key` values already staged on one of the `days` days before `day`, each
    with the record_hash and day of that staging (the earliest, if several). Days not staged
    (yet) are skipped.

    Read on the driver like the checks: the day's raw keys and the earlier days' staged key and
    record_hash only (1,000,000 postings a day: some 40 MB a day), one hash lookup of those in
    the day's keys (Arrow's is_in) and only the few matches kept; no Spark job, nothing wide is
    read or joined (3 earlier days of 1,000,000 postings: about 1 s). Staged keys are trimmed:
    raw values are matched by their trimmed text, as staging types them (Spark's trim: spaces).

    Re-running a day gives the same rows (it looks back only, never at itself or later days).
    Re-staging an earlier day after a later one leaves the earlier day as it was; but when its
    rows changed (a landing file replaced), the days after it within `days` judged their
    re-deliveries against the old rows: re-stage them too, in order (one range backfill). A day
    staged before an earlier day of its window existed did not see it: re-stage it after."""
    earlier = [day - timedelta(days=back) for back in range(days, 0, -1)]  # the earliest first
    parts = {
        d: read_day(lake, "staged", table, d, [key, "record_hash"])
        for d in earlier
        if lake.files(day_path("staged", table, d), ".parquet")
    }
    if not parts:
        return {}
    raw = read_day(lake, "raw", table, day, [key])[key]
    trimmed = pc.utf8_trim(raw, " ")
    staged = pa.concat_tables(parts.values())
    hits = pc.indices_nonzero(pc.is_in(staged[key], value_set=trimmed))
    if len(hits) == 0:  # the usual day: nothing re-sent
        return {}
    ends = list(itertools.accumulate(t.num_rows for t in parts.values()))
    found: dict[str, tuple[str, date]] = {}
    taken = staged.take(hits)
    for i, k, h in zip(hits.to_pylist(), *(taken[c].to_pylist() for c in (key, "record_hash"))):
        found.setdefault(k, (h, list(parts)[bisect.bisect_right(ends, i)]))
    if not found:
        return {}
    matched = pc.unique(raw.filter(pc.is_in(trimmed, value_set=pa.array(list(found)))))
    return {v: found[v.strip(" ")] for v in matched.to_pylist()}


def copy_to_warehouse(
    spark: SparkSession,
    lake: Lake,
    zone: str,
    table: str,
    day: date,
    dsn: str,
    target: str,
    connections: int = COPY_CONNECTIONS,
) -> list[str]:
    """COPY one day of a lake table into the PostgreSQL table `target` ("schema.name"), the
    private table of a `Warehouse.load`, by at most `connections` Spark tasks at once (the
    files balanced over them by size), exactly once (see io/spark/warehouse_copy.py); the
    columns copied."""
    infos = _day_files(lake, zone, table, day)
    columns = pq.read_schema(lake.fs.open_input_file(infos[0].path)).names
    groups = balanced([(lake.relative(i.path), i.size) for i in infos], connections)
    options = {
        "lake": lake.config.to_json(),
        "files": json.dumps(groups),
        "dsn": dsn,
        "table": target,
        "columns": json.dumps(columns),
        "fault": spark.conf.get(FAULT_CONF, None) or "",
    }
    open_ledger(dsn, target)
    if sum(i.size for i in infos) <= LOCAL_READ_BYTES and not options["fault"]:
        # a small day: the data source's own COPY of each group, run here (no Spark job and
        # its round of Python workers for a table of a few thousand rows); an armed fault
        # hook tests Spark's task retries, so it always goes through Spark
        reader = WarehouseCopy(options).reader(None)
        accepted = [a for p in reader.partitions() for _, a, _ in reader.read(p)]
    else:
        rows = spark.read.format("bank_pg_copy").options(**options).load().collect()
        accepted = [r["attempt"] for r in rows]
    keep_committed(dsn, target, set(accepted))
    return columns


def balanced(files: Sequence[tuple[str, int]], groups: int) -> list[list[str]]:
    """`files` (path, size) in at most `groups` groups of about equal bytes, largest first into
    the lightest group; each group in the files' order."""
    bins: list[tuple[int, int, list[tuple[int, str]]]] = [
        (0, g, []) for g in range(min(max(groups, 1), len(files)))
    ]
    for index, (path, size) in sorted(enumerate(files), key=lambda f: -f[1][1]):
        total, g, members = heapq.heappop(bins)
        members.append((index, path))
        heapq.heappush(bins, (total + size, g, members))
    return [
        [path for _, path in sorted(members)] for _, _, members in sorted(bins, key=lambda b: b[1])
    ]


def _day_files(lake: Lake, zone: str, table: str, day: date):
    relative = day_path(zone, table, day)
    infos = lake.files(relative, ".parquet")
    if not infos:
        raise LakeError(
            f"{zone}/{table} has no data for {day} at {lake.uri(relative)}: "
            f"materialize [{zone}, {table}] for partition {day} first"
        )
    return infos


# Up to this many rows in all, a write runs without whole-stage code generation
# (`interpreted`): compiling a staging's wide projection (Janino, then the JIT) costs more than
# evaluating it row by row. The 9 small sources of a 1M day staged in a fresh session (the
# largest: 75,000 accounts): 24.4 s with it, 21.3 s without (docs/performance.md, session 12).
INTERPRETED_ROWS = 80_000
WHOLE_STAGE = "spark.sql.codegen.wholeStage"


@contextlib.contextmanager
def interpreted(spark: SparkSession, rows: int) -> Iterator[None]:
    """What runs inside is planned without whole-stage code generation when `rows` (what it
    reads) are at most INTERPRETED_ROWS; the session's setting is restored after."""
    if rows > INTERPRETED_ROWS:
        yield
        return
    before = spark.conf.get(WHOLE_STAGE, None)
    spark.conf.set(WHOLE_STAGE, "false")
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(WHOLE_STAGE)
        else:
            spark.conf.set(WHOLE_STAGE, before)


def write_table(df: DataFrame, lake: Lake, zone: str, table: str, day: date) -> Written:
    """Replace one day of a lake table with `df` (old files go only once the write succeeded)."""
    return _write(df, lake, {None: (zone, table, day, None)})[None]


def write_split(
    df: DataFrame,
    lake: Lake,
    day: date,
    route_column: str,
    routes: dict[str, tuple[str, str, list[str]]],
) -> dict[str, Written]:
    """One pass over `df`, each row to the table of its `route_column` value.

    `routes` maps a value to (zone, table, columns); rows with any other value are not written.
    """
    routed = {
        value: (zone, table, day, columns) for value, (zone, table, columns) in routes.items()
    }
    return _write(df, lake, routed, route_column)


def write_days(
    df: DataFrame,
    lake: Lake,
    route_column: str,
    routes: dict[str, tuple[str, str, date, list[str] | None]],
) -> dict[str, Written]:
    """write_split of several days in one pass (one Spark job for a range's days of a small
    table): `routes` maps a value to (zone, table, day, columns). Every routed day is replaced
    once the whole write succeeded, with no rows if `df` has none for it."""
    return _write(df, lake, routes, route_column)


def _write(df, lake: Lake, routes: dict, route_column: str | None = None) -> dict:
    lake.ensure_ready()
    spec = [
        {"dir": day_path(zone, table, day), "columns": columns, "value": value}
        for value, (zone, table, day, columns) in routes.items()
    ]
    writer = (
        df.write.format("bank_lake")
        .mode("overwrite")
        .option("lake", lake.config.to_json())
        .option("routes", json.dumps(spec))
        .option("run_id", uuid.uuid4().hex[:12])
    )
    if route_column:
        writer = writer.option("route_column", route_column)
    writer.save()
    arrow_schema = to_arrow_schema(df.schema, timezone="UTC")
    out = {}
    for value, route in zip(routes, spec):
        relative = route["dir"]
        if not lake.files(relative, ".parquet"):  # an empty day still records its schema
            schema = arrow_schema
            if route["columns"]:
                schema = pa.schema([arrow_schema.field(c) for c in route["columns"]])
            buffer = pa.BufferOutputStream()
            pq.write_table(schema.empty_table(), buffer, compression="snappy")
            lake.write_bytes(f"{relative}/part-empty.parquet", buffer.getvalue().to_pybytes())
        out[value] = _written(lake, relative)
    return out


def _written(lake: Lake, relative: str) -> Written:
    infos = lake.files(relative, ".parquet")
    return Written(
        rows=_parquet_rows(lake, infos),
        bytes=sum(i.size for i in infos),
        files=len(infos),
        uri=lake.uri(relative),
    )


def count_rows(lake: Lake, zone: str, table: str, day: date) -> int:
    """Rows of one day of a lake table, from the Parquet footers (no data is read)."""
    return _parquet_rows(lake, lake.files(day_path(zone, table, day), ".parquet"))


def table_rows(lake: Lake, zone: str, table: str) -> int:
    """Rows of a lake table over all its days, from the Parquet footers of every day folder
    (no data is read): pyarrow lists the table once and reads the footers in parallel, using
    the listed sizes (no request per file for its size)."""
    root = lake.abspath(f"{zone}/{table}")
    if lake.fs.get_file_info(root).type == pafs.FileType.NotFound:
        return 0
    return ds.dataset(root, filesystem=lake.fs, format="parquet").count_rows()


def read_day(
    lake: Lake,
    zone: str,
    table: str,
    day: date,
    columns: list[str] | None = None,
    dictionary: Sequence[str] = (),
) -> pa.Table:
    """One day of a lake table read on the driver, only `columns` if given: for checks and
    small summaries, without a Spark job. `dictionary` columns (few distinct values, such as
    file names) are read dictionary-encoded, much faster than as strings."""
    files = lake.files(day_path(zone, table, day), ".parquet")
    if not files:
        raise LakeError(f"{zone}/{table} has no files for {day}: materialize it first")
    return pa.concat_tables(
        pq.read_table(
            lake.fs.open_input_file(i.path), columns=columns, read_dictionary=list(dictionary)
        )
        for i in files
    )


def read_day_parts(
    lake: Lake,
    zone: str,
    table: str,
    day: date,
    columns: Sequence[str],
    rows: int,
    dictionary: Sequence[str] = (),
) -> Iterator[pa.Table]:
    """One day of a lake table read on the driver in parts of about `rows` rows (whole row
    groups, in file order; at least one part, maybe empty), only those of `columns` the files
    have (the checks name a missing one): memory does not grow with the day."""
    files = lake.files(day_path(zone, table, day), ".parquet")
    if not files:
        raise LakeError(f"{zone}/{table} has no files for {day}: materialize it first")
    groups: list[pa.Table] = []
    yielded = False
    for i in files:
        f = pq.ParquetFile(lake.fs.open_input_file(i.path), read_dictionary=list(dictionary))
        present = [c for c in columns if c in f.schema_arrow.names]
        empty = pa.schema([f.schema_arrow.field(c) for c in present]).empty_table()
        for g in range(f.num_row_groups):
            groups.append(f.read_row_group(g, columns=present))
            if sum(t.num_rows for t in groups) >= rows:
                yield pa.concat_tables(groups, promote_options="permissive")
                groups, yielded = [], True
    if groups or not yielded:
        yield pa.concat_tables(groups, promote_options="permissive") if groups else empty


def value_counts(lake: Lake, zone: str, table: str, day: date, column: str) -> dict[str, int]:
    """Rows per value of one column of a day's table (quarantined rows per rule, ...)."""
    counts = pc.value_counts(read_day(lake, zone, table, day, [column])[column]).to_pylist()
    return dict(sorted((c["values"], c["counts"]) for c in counts))


def _parquet_rows(lake: Lake, infos) -> int:
    return sum(pq.ParquetFile(lake.fs.open_input_file(i.path)).metadata.num_rows for i in infos)
