"""Materialization metadata every asset records: rows, seconds, rows/s, bytes, location, schema."""

from __future__ import annotations

from datetime import date

import dagster as dg
from pyspark.sql.types import StructType


def column_schema(schema: StructType) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(f.name, f.dataType.simpleString()) for f in schema.fields]
    )


def summary(
    rows_by_day: dict[date, int],
    seconds: float,
    location: str | None = None,
    size_bytes: int | None = None,
    schema: StructType | None = None,
    **extra,
) -> dict:
    """Metadata for one asset over the days of a run (one day, or a backfilled range)."""
    rows = sum(rows_by_day.values())
    meta: dict = {
        "dagster/row_count": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds > 0 else 0,
        "rows_by_day": {d.isoformat(): n for d, n in rows_by_day.items()},
    }
    if location is not None:
        meta["location"] = dg.MetadataValue.path(location)
    if size_bytes is not None:
        meta["bytes"] = size_bytes
    if schema is not None:
        meta["dagster/column_schema"] = column_schema(schema)
    meta.update(extra)
    return meta
