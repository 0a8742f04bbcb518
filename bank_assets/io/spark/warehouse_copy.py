"""Lake -> PostgreSQL with COPY, run by Spark (`format("bank_pg_copy")`), exactly once.

A Python data source whose read COPYs: each task streams its Parquet files of the lake as CSV
into `COPY <table> FROM STDIN` over its own connection and yields one row (task, attempt, rows).
The rows go from the files to PostgreSQL without passing through the JVM (measured: the COPY of
a 1,000,000-posting day takes ~half the time it took through a Spark DataFrame writer), and the
work still spreads over the executors of a cluster. The files are grouped into at most
`connections` tasks (the caller balances them by size), so a load never holds more than that
many connections, whatever the cluster's cores (BANK_ASSETS_COPY_CONNECTIONS).

The target is a private table of one load; the driver swaps its rows in once every task
succeeded (`Warehouse.load`), so readers never see a half load, and a failed task's COPY is
rolled back with its connection.

Exactly once under retries and speculation: a task attempt that committed its COPY can still
fail (its executor lost before its result reached the driver) or run twice (a speculative
copy), and Spark then runs the task again. So each attempt first enters itself (a fresh id) in
the load's attempt ledger, in the transaction of its COPY: its rows and its ledger row commit
together and carry the same transaction id (PostgreSQL's `xmin`). The driver gets the ids of the
attempts Spark accepted (one per task, the rows of `collect()`) and `keep_committed` removes the
rows of every other committed attempt, then drops the ledger, which fails the late attempts
still to come (io/warehouse/loader.py).

Options: lake (LakeConfig as JSON), files (JSON list, one list of lake-relative paths per
task), dsn, table (schema-qualified target), columns (JSON list: the file columns, in the
table's names), fault (see FAULT_CONF).

FAULT_CONF, the one fault hook (tests only; off unless that Spark property is set to
"after_copy"): the first attempt of every task fails right after its COPY committed, so Spark
retries it with the rows of the failed attempt already in the table.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from bank_assets.model.keys import BATCH_ROWS

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA = "task int, attempt string, rows long"
FAULT_CONF = "spark.bank_assets.test.copy_fault"
AFTER_COPY = "after_copy"


class InjectedFault(RuntimeError):
    """Raised by the FAULT_CONF hook: a task attempt failing after its COPY committed."""


class WarehouseCopy(DataSource):
    @classmethod
    def name(cls) -> str:
        return "bank_pg_copy"

    def schema(self) -> str:
        return SCHEMA

    def reader(self, schema) -> DataSourceReader:
        return _CopyReader(self.options)


class _CopyReader(DataSourceReader):
    def __init__(self, options):
        self.lake = options["lake"]
        self.files = json.loads(options["files"])
        self.dsn = options["dsn"]
        self.table = options["table"]
        self.columns = json.loads(options["columns"])
        self.fault = options.get("fault") or None

    def partitions(self):
        return [InputPartition([task, files]) for task, files in enumerate(self.files)]

    def read(self, partition: InputPartition) -> Iterator[tuple[int, str, int]]:
        import uuid

        # here, not at the top: the Python workers that only plan the read (the data source's
        # schema, partitions) stay without pyarrow and psycopg (docs/performance.md, session 12)
        import psycopg
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
        from psycopg import sql
        from pyspark import TaskContext

        from bank_assets.io.lake import LakeConfig
        from bank_assets.io.warehouse.loader import begin_attempt

        task, files = partition.value
        attempt = uuid.uuid4().hex  # this attempt only: a retry or a speculative copy gets another
        fs, base = LakeConfig.from_json(self.lake).filesystem()
        schema, table = self.table.split(".", 1)
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        options = pacsv.WriteOptions(include_header=False)
        rows = 0
        with psycopg.connect(self.dsn) as conn, conn.cursor() as cur:
            begin_attempt(conn, self.table, task, attempt)  # in the COPY's transaction
            cur.execute("set local time zone 'UTC'")  # timestamps go as UTC wall time, see below
            for file in files:
                parquet = pq.ParquetFile(fs.open_input_file(f"{base}/{file}"))
                with cur.copy(statement) as copy:
                    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=self.columns):
                        buf = io.BytesIO()
                        pacsv.write_csv(_utc_wall_time(batch), buf, options)
                        copy.write(buf.getvalue())
                        rows += batch.num_rows
        if self.fault == AFTER_COPY and TaskContext.get().attemptNumber() == 0:
            raise InjectedFault(f"{FAULT_CONF}: task {task} fails after its COPY committed")
        yield task, attempt, rows


def _utc_wall_time(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with its zoned timestamps (Arrow stores the UTC instant) as UTC wall time, which
    the COPY session reads in UTC: the CSV writer formats a zoned timestamp 20x slower (0.3 s per
    250,000 values, most of a 1,000,000-posting COPY's encoding)."""
    import pyarrow as pa

    columns = [
        c.cast(pa.timestamp(c.type.unit)) if pa.types.is_timestamp(c.type) and c.type.tz else c
        for c in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
