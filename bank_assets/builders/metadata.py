"""Materialization metadata every asset records.

A run materializes one partition or a range of them; Dagster writes one materialization event
per day. What describes a day (its rows, seconds, rows/s, bytes) is recorded against that day's
partition, so the Partitions tab and the metadata plots show days, not range totals; what
describes the table (`dagster/row_count`: its rows over every day, its schema) goes on every
event of the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import dagster as dg
from pyspark.sql.types import StructType

SAMPLE_ROWS = 20  # failing rows shown per check evaluation (dq.results keeps the rule's sample)


def column_schema(schema: StructType) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(f.name, f.dataType.simpleString()) for f in schema.fields]
    )


def day_figures(rows: int, seconds: float, size_bytes: int | None = None, **extra) -> dict:
    """What one day of a run recorded against its partition."""
    meta: dict = {
        "dagster/partition_row_count": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds > 0 else 0,
    }
    if size_bytes is not None:
        meta["bytes"] = size_bytes
    meta.update(extra)
    return meta


def table_figures(rows: int, schema: StructType | None = None, **extra) -> dict:
    """What every materialization event of a run carries: the table's rows over all its days."""
    meta: dict = {"dagster/row_count": rows}
    if schema is not None:
        meta["dagster/column_schema"] = column_schema(schema)
    meta.update(extra)
    return meta


def record_days(
    context: dg.AssetExecutionContext, asset_key: list[str], days: Mapping[date, dict]
) -> None:
    """Attach each day's figures to that day's materialization event of `asset_key` (call
    before yielding the asset's MaterializeResult)."""
    for day, figures in days.items():
        context.add_asset_metadata(figures, asset_key=asset_key, partition_key=day.isoformat())


def sample_table(rows: list[dict]) -> dg.TableMetadataValue | None:
    """Failing rows as a table the UI renders (at most SAMPLE_ROWS; None when there are none).
    Values that are not numbers, booleans or text are shown as text."""
    if not rows:
        return None
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return dg.MetadataValue.table(
        [dg.TableRecord({c: _cell(row.get(c)) for c in columns}) for row in rows[:SAMPLE_ROWS]]
    )


def _cell(value):
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)
