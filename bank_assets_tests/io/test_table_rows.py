"""The rows of a lake table over all its days (`dagster/row_count`), from the Parquet footers."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from bank_assets.io.lake import day_path
from bank_assets.io.spark.tables import table_rows
from bank_assets_tests.conftest import DAY


def _parquet(rows: int) -> bytes:
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": list(range(rows))}), buffer)
    return buffer.getvalue().to_pybytes()


def test_every_day_folder_counts_and_nothing_else(local_lake):
    assert table_rows(local_lake, "staged", "transactions") == 0  # not written yet
    for i, rows in enumerate([3, 0, 5]):
        folder = day_path("staged", "transactions", DAY + timedelta(days=i))
        local_lake.write_bytes(f"{folder}/part-00000.parquet", _parquet(rows))
    folder = day_path("staged", "transactions", DAY)
    local_lake.write_bytes(f"{folder}/part-00001.parquet", _parquet(2))
    # a write in progress and another table are not the table's rows
    local_lake.write_bytes("staged/transactions/_tmp-run/part-00000.parquet", _parquet(7))
    local_lake.write_bytes(f"{day_path('staged', 'clients', DAY)}/part-0.parquet", _parquet(11))
    assert table_rows(local_lake, "staged", "transactions") == 10
