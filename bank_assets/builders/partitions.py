"""Daily partitions shared by every asset: one partition = one landing (business) day, UTC."""

from __future__ import annotations

from datetime import date

import dagster as dg

START_DATE = "2025-01-01"
daily = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
# A date-range backfill of a Spark asset is one run with one Spark session, not one per day.
single_run = dg.BackfillPolicy.single_run()


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days this run materializes: one partition, or every day of a backfilled range."""
    return [date.fromisoformat(key) for key in context.partition_keys]


def partition_exists(day: date) -> bool:
    """True when `day` is a partition now (from START_DATE up to yesterday, UTC)."""
    last = daily.get_last_partition_key()
    return date.fromisoformat(START_DATE) <= day and last is not None and day.isoformat() <= last
