"""Spark reaches the lake through these Python data sources.

Why: Spark's own `s3a://` needs hadoop-aws jars, which cannot be installed here; Python data
sources built on `pyarrow.fs` read and write S3 and local disks alike, run on the executors
(one input partition per file, so they scale out with a cluster) and are as fast as Spark's
native Parquet path.

Landing (`spark.read.format("bank_landing").options(...).load().collect()`): each task parses
one landing file, or one split (byte range) of a large one (see "splits" below), and writes it
to the raw zone as one Snappy Parquet file, every column a string, and yields a row
(source_file, start, rows, path, cards_masked, error, irregular): the rows never pass through
the JVM. Card numbers are masked here, before anything is stored (model/cards.py:
every text field and `_raw_line` keeps only the first 6 / last 4 digits; `cards_masked` counts
them). A file that cannot be read at all (LandingFormatError) yields its message as `error`
instead of failing the task, so the driver can name every such file as written.
  lake     LakeConfig as JSON
  files    JSON list of {"path": <relative path>, "landed_at": <ISO timestamp>, "size": <bytes>,
           "split": {"start", "end", ...}} (`read_split`; start 0 and end = size: the whole file)
  scan     instead of the above: JSON list of [path, start, end], the first pass over the
           splits (`scan_range`), one task each
  format   csv | jsonl
  schema   the raw table's Spark schema as JSON: the source columns expected in each file,
           then the lineage columns below (names starting with "_")
  dir      the raw day directory to write into; run_id names this run's files
Lineage added: `_source_file`, `_line` (1-based physical line where the record starts, the
header is line 1; blank lines and quoted line breaks count),
`_landed_at`, and for a line that cannot be parsed `_raw_line` and `_error` (all source columns
null). Nothing is dropped: every landed line becomes one row. The caller keeps only this run's
files once every task succeeded (`keep_only`), or removes them if one failed (`remove_run`).

Reading Parquet (`spark.read.format("bank_lake").schema(S).options(lake, files).load()`, files
a JSON list of lake-relative paths): one partition per file; only the columns of S are read,
every batch is cast to S. With `only` ({"column": c, "values": [...]} as JSON) a task yields just
the rows whose column c holds one of the values: the few rows of a large day that a job needs
never reach the JVM.

Writing (`df.write.format("bank_lake").mode("overwrite").options(lake, routes, run_id)`):
each task streams its batches into one Snappy Parquet file `part-<run_id>-*.parquet` per
route; on commit the older files of each route's directory are deleted, on abort this run's
files are, so a failed write leaves the previous data of the day intact and a re-run replaces
exactly that day. `routes` is a JSON list of {"dir", "columns" (null = all), "value"}; with
`route_column` set, a row goes to the route whose "value" it holds (and nowhere if none), so
one pass over the data can write several tables (the staged and quarantine rows of a day).
"""

from __future__ import annotations

import csv
import functools
import importlib
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType

from bank_assets.model.keys import BATCH_ROWS


class _OnFirstUse:
    """A module (or one of its names) imported when the code first uses it, then bound in its
    place. Why: Spark's Python workers that only plan a read or a write (the data source's
    schema, partitions, writer, commit) import this module and stay at ~30 MB without pyarrow
    and numpy (~85 MB with them), each kept idle for reuse (docs/performance.md, session 12)."""

    def __init__(self, alias: str, module: str, name: str | None = None):
        self._alias, self._module, self._name = alias, module, name

    def _load(self):
        value = importlib.import_module(self._module)
        value = getattr(value, self._name) if self._name else value
        globals()[self._alias] = value
        return value

    def __getattr__(self, attribute: str):
        return getattr(self._load(), attribute)

    def __call__(self, *args, **kwargs):
        return self._load()(*args, **kwargs)


np = _OnFirstUse("np", "numpy")
pa = _OnFirstUse("pa", "pyarrow")
pc = _OnFirstUse("pc", "pyarrow.compute")
pacsv = _OnFirstUse("pacsv", "pyarrow.csv")
pq = _OnFirstUse("pq", "pyarrow.parquet")
LakeConfig = _OnFirstUse("LakeConfig", "bank_assets.io.lake", "LakeConfig")  # pyarrow.fs
mask_table = _OnFirstUse("mask_table", "bank_assets.model.cards", "mask_table")

CHUNK_BYTES = 1 << 22  # bytes of a CSV file classified at a time (record_lines)


class LandingFormatError(ValueError):
    """A landing file cannot be read at all (wrong header, not UTF-8...); names the file."""


class IrregularQuoting(LandingFormatError):
    """A split of a CSV file whose quotes are not standard: the file is landed unsplit."""


class LakeDataSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return "bank_lake"

    def reader(self, schema: StructType) -> DataSourceReader:
        return _LakeReader(self.options, schema)

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceArrowWriter:
        return _LakeWriter(self.options)


class _LakeReader(DataSourceReader):
    def __init__(self, options, schema: StructType):
        self.lake = options["lake"]
        self.files = json.loads(options["files"])
        self.arrow_schema = to_arrow_schema(schema, timezone="UTC")
        self.only = json.loads(options.get("only", "null"))

    def partitions(self):
        return [InputPartition(f) for f in self.files]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        fs, base = LakeConfig.from_json(self.lake).filesystem()
        parquet = pq.ParquetFile(fs.open_input_file(f"{base}/{partition.value}"))
        columns = self.arrow_schema.names
        if self.only:  # the values to keep, typed as the file's column, once per file
            kept = self.only["column"]
            values = pa.array(self.only["values"], parquet.schema_arrow.field(kept).type)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            if self.only:
                batch = batch.filter(pc.is_in(batch.column(kept), values))
            yield from _cast(pa.Table.from_batches([batch]), self.arrow_schema).to_batches()


def _errors_as_rows(read):
    """A landing file that cannot be read yields its LandingFormatError as a row instead of
    failing the task: the driver then reports every such file with the message as written (a
    failed task's error reaches the driver wrapped in a Spark traceback, and a cluster would
    retry the task first)."""

    @functools.wraps(read)
    def reading(self, partition: InputPartition):
        try:
            yield from read(self, partition)
        except LandingFormatError as e:
            split, irregular = partition.value["split"], isinstance(e, IrregularQuoting)
            yield partition.value["path"], split["start"], 0, None, 0, str(e), irregular

    return reading


class LandingDataSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return "bank_landing"

    def schema(self) -> str:
        if "scan" in self.options:
            return "path string, start long, newlines long, quotes long, lone_cr boolean"
        return (
            "source_file string, start long, rows long, path string, cards_masked long, "
            "error string, irregular boolean"
        )

    def reader(self, schema) -> DataSourceReader:
        if "scan" in self.options:
            return _ScanReader(self.options)
        return _LandingReader(self.options)


class _ScanReader(DataSourceReader):
    """The first pass over the splits of large landing files (`scan_range`, one task each)."""

    def __init__(self, options):
        self.lake = options["lake"]
        self.ranges = json.loads(options["scan"])

    def partitions(self):
        return [InputPartition(r) for r in self.ranges]

    def read(self, partition: InputPartition) -> Iterator[tuple[str, int, int, int, bool]]:
        fs, base = LakeConfig.from_json(self.lake).filesystem()
        path, start, end = partition.value
        with fs.open_input_file(f"{base}/{path}") as f:
            yield path, start, *scan_range(lambda at, n: f.read_at(n, at), start, end, f.size())


class _LandingReader(DataSourceReader):
    """Landing file -> raw Parquet file, one task per file (see the module docstring)."""

    def __init__(self, options):
        self.lake = options["lake"]
        self.files = json.loads(options["files"])
        self.format = options["format"]
        schema = StructType.fromJson(json.loads(options["schema"]))
        self.columns = [c for c in schema.names if not c.startswith("_")]
        self.arrow_schema = to_arrow_schema(schema, timezone="UTC")
        self.dir = options["dir"]
        self.run_id = options["run_id"]

    def partitions(self):
        return [InputPartition(f) for f in self.files]

    @_errors_as_rows
    def read(self, partition: InputPartition) -> Iterator[tuple]:
        config = LakeConfig.from_json(self.lake)
        fs, base = config.filesystem()
        source_file, landed_at = partition.value["path"], partition.value["landed_at"]
        split, size = partition.value["split"], partition.value["size"]
        if self.format not in ("csv", "jsonl"):
            raise ValueError(f"unknown landing format {self.format!r}")
        if split["end"] - split["start"] < size:  # one of several splits of the file
            with fs.open_input_file(f"{base}/{source_file}") as f:
                table = read_split(
                    lambda at, n: f.read_at(n, at),
                    size,
                    split,
                    self.format,
                    self.columns,
                    source_file,
                )
        else:
            with fs.open_input_stream(f"{base}/{source_file}") as f:
                data = f.read()
            read = read_landing_csv if self.format == "csv" else read_landing_jsonl
            table = read(data, self.columns, source_file)
        table, cards_masked = mask_table(table)  # no raw card number is ever stored
        stamp = pa.scalar(datetime.fromisoformat(landed_at), pa.timestamp("us", tz="UTC"))
        table = _cast(
            table.append_column("_landed_at", pa.repeat(stamp, len(table))), self.arrow_schema
        )
        path = f"{base}/{self.dir}/part-{self.run_id}-{uuid.uuid4().hex[:12]}.parquet"
        if not config.is_s3:
            fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with fs.open_output_stream(path) as sink:
            pq.write_table(table, sink, row_group_size=BATCH_ROWS, compression="snappy")
        yield source_file, split["start"], len(table), path, cards_masked, None, False


def _cast(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table.select(schema.names).cast(schema)


# ---- splits: a large landing file read by several tasks, one byte range each ----
#
# A split [start, end) holds the records that start in it: from the first record start at or
# after `start` (the file's start for the first split) to the first one at or after `end`. A
# record starts at a line start (0, or after an LF) that, in a CSV file, is not inside a quoted
# field: an even number of quote characters before it (standard quoting; a split whose lines
# that parity cannot number raises IrregularQuoting, and the file is landed unsplit). The
# counts before each `start` (LFs, quotes) come from a first pass over the ranges (`scan_range`):
# the lines stay numbered as in the whole file.

READ_STEP = 1 << 20  # bytes read at a time when looking for where a split's records start


def split_starts(size: int, split_bytes: int) -> list[int]:
    """Where the splits of a file of `size` bytes start: one split when it is not larger."""
    return list(range(0, size, split_bytes)) if size > split_bytes else [0]


def scan_range(read_at, start: int, end: int, size: int) -> tuple[int, int, bool]:
    """(LFs, quote characters, whether a lone CR is there) in bytes [start, end) of a file of
    `size` bytes read by `read_at(offset, length)`; a CR at `end - 1` is lone unless byte `end`
    is an LF."""
    data = read_at(start, min(end + 1, size) - start)
    body = data[: end - start]
    lone_cr = body.count(b"\r") != data.count(b"\r\n")
    return body.count(b"\n"), body.count(b'"'), lone_cr


def plan_splits(size: int, starts: list[int], scans: list[tuple[int, int, bool]], csv_quotes: bool):
    """The splits of a file of `size` bytes starting at `starts`, from `scan_range` of each
    (as `read_split` takes them); one split when a CSV file has a lone CR (pyarrow ends a
    record there, while lines are counted by LF: only the whole file can number them)."""
    if len(starts) == 1 or (csv_quotes and any(lone for _, _, lone in scans)):
        return [{"start": 0, "end": size, "lines": 0, "quotes": 0, "end_quotes": 0}]
    bounds = [*starts, size]
    lines = list(itertools.accumulate(s[0] for s in scans))
    quotes = list(itertools.accumulate(s[1] for s in scans))
    return [
        {
            "start": bounds[k],
            "end": bounds[k + 1],
            "lines": ([0, *lines])[k],
            "quotes": ([0, *quotes])[k],
            "end_quotes": quotes[k],
        }
        for k in range(len(starts))
    ]


def record_start(read_at, size: int, at: int, quotes_before: int, csv_quotes: bool):
    """The first record start at or after `at` (> 0), and the LFs in [at, that start);
    `quotes_before`: the quote characters before `at` (counted only with `csv_quotes`)."""
    if read_at(at - 1, 1) == b"\n" and (not csv_quotes or quotes_before % 2 == 0):
        return at, 0
    pos, carry, newlines = at, quotes_before, 0
    while pos < size:
        chunk = np.frombuffer(read_at(pos, min(READ_STEP, size - pos)), np.uint8)
        ends = np.flatnonzero(chunk == 10)
        starts = ends
        if csv_quotes:
            quotes = np.cumsum(chunk == 34)
            starts = ends[((carry + quotes[ends]) & 1) == 0]
            carry += int(quotes[-1])
        if len(starts):
            return pos + int(starts[0]) + 1, newlines + int(np.searchsorted(ends, starts[0])) + 1
        newlines += len(ends)
        pos += len(chunk)
    return size, newlines


def read_split(read_at, size: int, split: dict, file_format: str, columns, source_file):
    """One split of a landing file (see above) parsed as `read_landing_csv` or
    `read_landing_jsonl` would the whole file, with the file's line numbers. `split`: start,
    end, lines (LFs before start), quotes (before start), end_quotes (before end)."""
    csv_quotes = file_format == "csv"
    start, end = split["start"], split["end"]
    first, skipped = 0, 0
    if start > 0:
        first, skipped = record_start(read_at, size, start, split["quotes"], csv_quotes)
    last = (
        size
        if end >= size
        else record_start(read_at, size, end, split["end_quotes"], csv_quotes)[0]
    )
    body = read_at(first, last - first) if last > first else b""
    first_line = split["lines"] + skipped + 1
    if not csv_quotes:
        return read_landing_jsonl(body, columns, source_file, first_line)
    if start == 0:
        return read_landing_csv(body, columns, source_file, split=True)
    header_end = record_start(read_at, size, 1, 0, csv_quotes=False)[0]
    # the header line before the records, so they parse as the file's; it is line 1, they
    # start on line 2 here
    data = read_at(0, header_end) + body
    return read_landing_csv(data, columns, source_file, first_line - 2, split=True)


def read_landing_csv(
    data: bytes, columns: list[str], source_file: str, line_offset: int = 0, split: bool = False
) -> pa.Table:
    """Parse a landing CSV: every column a string; bad lines kept with the reason. A file that
    cannot be read as a whole (empty, wrong header, not UTF-8) fails naming the file and line.

    A split of a larger file (`split`, see `read_split`) comes as the file's header line and
    the split's records, whose lines are `line_offset` further down the file than here; its
    quoting must be standard (IrregularQuoting otherwise: the split borders rest on it)."""
    if not data.strip():
        raise LandingFormatError(f"{source_file}: line 1: the file is empty (no header line)")
    refuse_cr_only(data, source_file)
    header_end = data.find(b"\n")
    if header_end < 0:  # a header without a line break: pyarrow cannot skip it
        header_end, data = len(data), data + b"\n"
    header_line = data[:header_end]
    try:
        header = next(csv.reader([header_line.decode("utf-8").rstrip("\r")]), [])
    except UnicodeDecodeError as e:
        raise LandingFormatError(f"{source_file}: line 1 is not UTF-8 ({e})") from e
    except csv.Error as e:
        raise LandingFormatError(
            f"{source_file}: line 1: the header cannot be read as CSV ({e}); re-deliver the file"
        ) from e
    if header != columns:
        raise LandingFormatError(
            f"{source_file}: line 1: header {header} does not match the expected columns "
            f"{columns} (missing: {sorted(set(columns) - set(header))}, "
            f"unexpected: {sorted(set(header) - set(columns))})"
        )
    bad: list[tuple[int, str, str]] = []

    def on_invalid(row) -> str:
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        bad.append((row.number, row.text, reason))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=columns, skip_rows=1, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as e:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad_text:
            line = data.count(b"\n", 0, bad_text.start) + 1
            line += line_offset if line > 1 else 0
            raise LandingFormatError(
                f"{source_file}: line {line} is not UTF-8 (byte "
                f"0x{data[bad_text.start]:02x}); the file must be re-delivered in UTF-8"
            ) from e
        if split:  # perhaps only because of its borders: the whole file says
            raise IrregularQuoting(source_file) from e
        raise LandingFormatError(f"{source_file}: cannot be parsed as CSV: {e}") from e
    # Rows come back in file order; the invalid-row handler numbers records from 1 (the header),
    # so the good rows hold the remaining record numbers 2..n+1 in order. `_line` is the
    # physical line where each record starts (records and lines differ after blank lines and
    # quoted line breaks).
    total = len(table) + len(bad)
    numbers = np.arange(2, total + 2, dtype=np.int64)
    bad_numbers = np.array([b[0] for b in bad], dtype=np.int64)
    is_good = ~np.isin(numbers, bad_numbers)
    lines = record_lines(data, total, source_file, exact_quotes=split) + line_offset
    good = table.append_column("_line", pa.array(lines[is_good], pa.int64()))
    good = good.append_column("_raw_line", pa.nulls(len(good), pa.string()))
    good = good.append_column("_error", pa.nulls(len(good), pa.string()))
    table = good
    if bad:  # malformed lines go back in their place, so the table stays in file order
        malformed = {c: pa.nulls(len(bad), pa.string()) for c in columns}
        malformed["_line"] = pa.array(lines[bad_numbers - 2], pa.int64())
        malformed["_raw_line"] = pa.array([b[1] for b in bad], pa.string())
        malformed["_error"] = pa.array([b[2] for b in bad], pa.string())
        table = pa.concat_tables([good, pa.table(malformed)]).sort_by("_line")
    return table.append_column("_source_file", pa.repeat(pa.scalar(source_file), len(table)))


def refuse_cr_only(data: bytes, source_file: str) -> None:
    """A file whose first line ends with a lone carriage return has CR-only line endings (as
    classic Mac OS wrote): refused, since every tool people look lines up with counts LF."""
    first_end = data.find(b"\n")
    cr = data.find(b"\r", 0, first_end if first_end >= 0 else len(data))
    if cr >= 0 and cr != first_end - 1:
        raise LandingFormatError(
            f"{source_file}: line 1 ends with a lone carriage return (CR-only line endings): "
            "re-deliver the file with LF or CRLF line endings"
        )


def record_lines(
    data: bytes, records: int, source_file: str, exact_quotes: bool = False
) -> np.ndarray:
    """The physical line (1-based, the header is line 1, LF counts lines) where each of the
    `records` data records of a CSV file starts.

    When the file has as many lines as records (no blank line, no quoted line break) record
    n is on line n + 1 (one pass over the bytes, ~0.04 s for 1,000,000 lines). Otherwise the
    lines are classified at numpy speed: a line starts a record unless it is blank (pyarrow
    skips those) or continues a quoted field (an odd number of quote characters before it:
    exact for standard quoting, where quotes open a field and double inside it). Irregular
    files (a quote inside an unquoted field, a lone CR, which pyarrow takes for a line end)
    are numbered by the csv module, record by record; a file neither way numbers like
    pyarrow is refused rather than given wrong line numbers. With `exact_quotes` (a split of a
    file) only the quote parity may number the lines (IrregularQuoting otherwise)."""
    chars = np.frombuffer(data, np.uint8)
    lone_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
    if not lone_cr:
        same = data.count(b"\n") + (not data.endswith(b"\n")) == records + 1
        # a split's borders rest on the quote parity: its lines must agree with it
        if same and not (exact_quotes and b'"' in data):
            return np.arange(2, records + 2, dtype=np.int64)
        numbers = _record_lines_by_quote_parity(chars)
        if len(numbers) == records:
            return numbers
    if exact_quotes:
        raise IrregularQuoting(source_file)
    numbers = _record_lines_by_csv_module(data)
    if len(numbers) != records:
        raise LandingFormatError(
            f"{source_file}: its quoting is irregular (a stray quote character or carriage "
            "return), so its lines cannot be numbered exactly: re-deliver the file with "
            "standard CSV quoting (RFC 4180)"
        )
    return numbers


def _record_lines_by_quote_parity(chars: np.ndarray) -> np.ndarray:
    # In chunks: a temporary as large as the file costs more in page faults (0.5 s for 200 MB)
    # than the work. Per chunk, the LF positions and the parity of the quotes before each.
    newlines, parity, carry = [], [], 0
    for offset in range(0, len(chars), CHUNK_BYTES):
        chunk = chars[offset : offset + CHUNK_BYTES]
        at = np.flatnonzero(chunk == 10)
        quotes = np.flatnonzero(chunk == 34)
        newlines.append(at + offset)
        parity.append((np.searchsorted(quotes, at) + carry) & 1)
        carry = (carry + len(quotes)) & 1
    ends = np.concatenate(newlines)  # line k (0-based) ends at ends[k]
    inside = np.concatenate(parity)  # line k + 1 starts inside a quoted field
    starts = ends + 1  # line k + 1 starts there
    if len(ends) and ends[-1] == len(chars) - 1:  # the file ends with a line break
        starts, inside = starts[:-1], inside[:-1]
    following = np.append(ends[1:], len(chars))[: len(starts)]  # where line k + 1 ends
    length = following - starts
    blank = (length == 0) | ((length == 1) & (chars[np.minimum(starts, len(chars) - 1)] == 13))
    return np.flatnonzero((inside == 0) & ~blank).astype(np.int64) + 2


def _record_lines_by_csv_module(data: bytes) -> np.ndarray:
    # Segments end at LF, CRLF or a lone CR (record ends for pyarrow too); each remembers the
    # physical (LF-counted) line it is on.
    segments = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", data.decode("utf-8"))
    physical = np.cumsum([0, *(seg.endswith("\n") for seg in segments)]) + 1
    reader = csv.reader(segments)
    lines, consumed = [], 0
    for row in reader:
        if row and consumed:  # not a blank line, not the header
            lines.append(physical[consumed])
        consumed = reader.line_num
    return np.array(lines, dtype=np.int64)


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict:
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return record


def read_landing_jsonl(
    data: bytes, columns: list[str], source_file: str, first_line: int = 1
) -> pa.Table:
    """Parse landing JSON lines: scalars become strings; bad lines (not JSON, not an object,
    unexpected or duplicated fields, an object or array where a scalar is expected) are kept
    with the reason. `_line` is the physical line: blank lines are skipped but counted; the
    data's first line is line `first_line` of the file (a split, see `read_split`)."""
    if first_line == 1:
        refuse_cr_only(data, source_file)
    values: dict[str, list] = {c: [] for c in (*columns, "_line", "_raw_line", "_error")}
    expected = set(columns)
    for number, raw in enumerate(data.split(b"\n"), start=first_line):
        if not raw.strip():
            continue
        error = None
        try:
            record = json.loads(raw)
            # Every key of the text has its own colon: a record with as many keys as the line
            # has colons has none duplicated. Other lines (a colon in a value, a nested object,
            # a duplicate) are parsed again seeing every key (a hook costs +50% on every line).
            if isinstance(record, dict) and raw.count(b":") != len(record):
                record = json.loads(raw, object_pairs_hook=_unique_pairs)
            if not isinstance(record, dict):
                error = "not a JSON object"
            elif extra := sorted(set(record) - expected):
                error = f"unexpected fields {extra}"
            elif b"[" in raw or raw.count(b"{") > 1:  # only then can a value be nested
                nested = next((c for c in columns if isinstance(record.get(c), dict | list)), None)
                if nested is not None:
                    kind = "object" if isinstance(record[nested], dict) else "array"
                    error = f"field {nested} holds a JSON {kind}, a scalar was expected"
        except _DuplicateKey as e:
            error = f"duplicated field {e}"
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            error = f"invalid JSON: {e}"
        if error:
            record = {}
        for c in columns:
            v = record.get(c)
            values[c].append(v if v is None or isinstance(v, str) else json.dumps(v))
        values["_line"].append(number)
        values["_raw_line"].append(raw.rstrip(b"\r").decode("utf-8", "replace") if error else None)
        values["_error"].append(error)
    table = pa.table(
        {k: pa.array(v, pa.int64() if k == "_line" else pa.string()) for k, v in values.items()}
    )
    return table.append_column("_source_file", pa.repeat(pa.scalar(source_file), len(table)))


@dataclass
class _Written(WriterCommitMessage):
    paths: list[str]


class _LakeWriter(DataSourceArrowWriter):
    """Writes each task's rows to one file per route (see module docstring and `routes`)."""

    def __init__(self, options):
        self.lake = options["lake"]
        self.run_id = options["run_id"]
        self.routes = json.loads(options["routes"])
        self.route_column = options.get("route_column")

    def write(self, iterator: Iterator[pa.RecordBatch]) -> _Written:
        config = LakeConfig.from_json(self.lake)
        fs, base = config.filesystem()
        writers: dict[str, tuple[str, pq.ParquetWriter]] = {}
        try:
            for batch in iterator:
                for route in self.routes:
                    part = batch
                    if self.route_column:
                        part = batch.filter(
                            pc.equal(batch.column(self.route_column), route["value"])
                        )
                        if part.num_rows == 0:
                            continue
                    if route["columns"]:
                        part = part.select(route["columns"])
                    if route["dir"] not in writers:
                        name = f"part-{self.run_id}-{uuid.uuid4().hex[:12]}.parquet"
                        path = f"{base}/{route['dir']}/{name}"
                        if not config.is_s3:
                            fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
                        sink = fs.open_output_stream(path)
                        writers[route["dir"]] = (
                            path,
                            pq.ParquetWriter(sink, part.schema, compression="snappy"),
                        )
                    writers[route["dir"]][1].write_batch(part)
        finally:
            for _, writer in writers.values():
                writer.close()
        return _Written([path for path, _ in writers.values()])

    def commit(self, messages) -> None:
        fs, base = LakeConfig.from_json(self.lake).filesystem()
        keep = {p for m in messages if m is not None for p in m.paths}
        for route in self.routes:
            keep_only(fs, f"{base}/{route['dir']}", keep)

    def abort(self, messages) -> None:
        fs, base = LakeConfig.from_json(self.lake).filesystem()
        for route in self.routes:
            remove_run(fs, f"{base}/{route['dir']}", self.run_id)


def keep_only(fs, directory: str, keep: set[str]) -> None:
    """Delete the files of `directory` not in `keep` (full paths): the older data of a day.
    Only one run works on a day at a time (io/warehouse/day_locks), so none of them is another's."""
    for info in _list(fs, directory):
        if info.path not in keep:
            fs.delete_file(info.path)


def remove_run(fs, directory: str, run_id: str) -> None:
    """Delete the files a failed run wrote into `directory` (the older data stays)."""
    for info in _list(fs, directory):
        if info.base_name.startswith(f"part-{run_id}-"):
            fs.delete_file(info.path)


def _list(fs, directory: str):
    import pyarrow.fs as pafs

    infos = fs.get_file_info(pafs.FileSelector(directory, allow_not_found=True))
    return [i for i in infos if i.type == pafs.FileType.File]
