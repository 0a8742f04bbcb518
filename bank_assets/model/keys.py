"""What several layers must agree on, defined once: the day key, the money types, the lineage
columns and the batch size the lake and warehouse readers stream by."""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

# ---- the day key: YYYYMMDD, dim_dates' key and the warehouse's partition key ---------------

UNKNOWN_KEY = -1  # the unknown member of every dimension: facts never hold a NULL key


def date_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def date_key_of(column: str) -> Column:
    """A date column -> its date_key, UNKNOWN_KEY when there is no date."""
    return F.coalesce(F.date_format(column, "yyyyMMdd").cast("int"), F.lit(UNKNOWN_KEY))


# ---- money: the Spark types of PostgreSQL's numeric columns (sql/) --------------------------

MONEY = DecimalType(18, 2)  # amounts, numeric(18,2)
RATE = DecimalType(9, 6)  # interest rates
FX = DecimalType(18, 8)  # reference rates, EUR per unit
SCORE = DecimalType(5, 4)  # fraud scores, 0-1

# ---- lineage: where a row came from, carried from staging to the warehouse ------------------

# raw lineage column (model/sources.py's raw schema) -> its staged name
RAW_LINEAGE = {"_source_file": "source_file", "_line": "source_line", "_landed_at": "landed_at"}
STAGED_LINEAGE = ("batch_id", "source_file", "source_line", "landed_at", "record_hash")
# what the curated tables carry: the staged lineage without the line
CURATED_LINEAGE = tuple(c for c in STAGED_LINEAGE if c != "source_line")

# ---- batch size: rows per Arrow batch when a day's Parquet is streamed ----------------------

BATCH_ROWS = 65_536
