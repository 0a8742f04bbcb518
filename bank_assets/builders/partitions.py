"""Daily partitions shared by every asset: one partition = one landing (business) day, UTC.

They start at the first business day (BANK_ASSETS_FIRST_DAY, settings.first_day), read once when
the definitions load: a setting, never a lake listing, so loading stays deterministic.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from bank_assets.settings import first_day

START_DATE = first_day().isoformat()
daily = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
# A date-range backfill of a Spark asset is one run with one Spark session, not one per day.
single_run = dg.BackfillPolicy.single_run()


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days this run materializes: one partition, or every day of a backfilled range."""
    return [date.fromisoformat(key) for key in context.partition_keys]


def partition_exists(day: date) -> bool:
    """True when `day` is a partition now (from START_DATE up to yesterday, UTC)."""
    return not_a_partition(day) is None


def not_a_partition(day: date) -> str | None:
    """Why `day` is not a partition (yet), or None when it is one."""
    if day.isoformat() < START_DATE:
        return f"before the first business day {START_DATE}, BANK_ASSETS_FIRST_DAY"
    last = daily.get_last_partition_key()
    if last is None or day.isoformat() > last:
        return "not over yet: a day is a partition once it is over (UTC)"
    return None
