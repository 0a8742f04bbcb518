"""Staged -> curated: the star-schema tables, as pure DataFrame -> DataFrame functions.

Surrogate keys are deterministic: `xxhash64(natural key, row_hash of the tracked attributes)`.
The same version of a client always gets the same key, in every run and every environment, so
facts can carry their dimension keys in the lake (readable without PostgreSQL), re-running a day
reproduces exactly the same rows, and a new SCD2 version appears only when a tracked attribute
really changes. The unknown member has key -1: facts never hold a NULL key.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DecimalType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from bank_assets.lib import reference as ref

UNKNOWN_KEY = -1
CLIENT_TRACKED = (
    "segment",
    "address_line",
    "postal_code",
    "city",
    "country",
    "kyc_status",
    "risk_rating",
    "status",
)
ACCOUNT_TRACKED = (
    "client_id",
    "product_code",
    "account_type",
    "branch_code",
    "status",
    "overdraft_limit",
    "interest_rate",
)
LINEAGE = ("batch_id", "source_file", "landed_at", "record_hash")


def date_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    return date(year, month, (h + el - 7 * m + 114) % 31 + 1)


def target2_holidays(year: int) -> set[date]:
    """TARGET2 closing days: New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December."""
    e = easter(year)
    return {
        date(year, 1, 1),
        e - timedelta(days=2),
        e + timedelta(days=1),
        date(year, 5, 1),
        date(year, 12, 25),
        date(year, 12, 26),
    }


DIM_DATES_SCHEMA = StructType(
    [
        StructField("date_key", IntegerType(), False),
        StructField("full_date", DateType(), False),
        StructField("day_of_week", IntegerType(), False),
        StructField("day_name", StringType(), False),
        StructField("day_of_month", IntegerType(), False),
        StructField("day_of_year", IntegerType(), False),
        StructField("iso_week", IntegerType(), False),
        StructField("iso_year", IntegerType(), False),
        StructField("month", IntegerType(), False),
        StructField("month_name", StringType(), False),
        StructField("quarter", IntegerType(), False),
        StructField("year", IntegerType(), False),
        StructField("is_weekend", BooleanType(), False),
        StructField("is_target2_holiday", BooleanType(), False),
        StructField("is_business_day", BooleanType(), False),
        StructField("is_month_end", BooleanType(), False),
        StructField("batch_id", DateType(), False),
    ]
)


def calendar_row(day: date) -> tuple:
    """One dim_dates row, in DIM_DATES_SCHEMA order."""
    iso = day.isocalendar()
    weekend = iso.weekday >= 6
    holiday = day in target2_holidays(day.year)
    return (
        date_key(day),
        day,
        iso.weekday,
        day.strftime("%A"),
        day.day,
        day.timetuple().tm_yday,
        iso.week,
        iso.year,
        day.month,
        day.strftime("%B"),
        (day.month - 1) // 3 + 1,
        day.year,
        weekend,
        holiday,
        not weekend and not holiday,
        (day + timedelta(days=1)).month != day.month,
        day,
    )


def dim_dates(spark: SparkSession, day: date) -> DataFrame:
    """Grain: one row per calendar day; each partition contributes its own day."""
    return spark.createDataFrame([calendar_row(day)], DIM_DATES_SCHEMA)


def scd2_versions(
    staged: DataFrame,
    day: date,
    key: str,
    natural_key: str,
    described: tuple[str, ...],
    tracked: tuple[str, ...],
) -> DataFrame:
    """One row per version seen in the day's master export, keyed by
    xxhash64(natural key, row_hash of the tracked attributes); `valid_from` is the day.

    The warehouse load (lib/warehouse.py, scd2) chains the versions into valid_from/valid_to.
    """
    row_hash = F.sha2(
        F.concat_ws(
            "\u001f", *[F.coalesce(F.col(c).cast("string"), F.lit("\u0000")) for c in tracked]
        ),
        256,
    )
    return staged.select(
        F.xxhash64(F.col(natural_key), row_hash).alias(key),
        natural_key,
        *described,
        *tracked,
        row_hash.alias("row_hash"),
        F.lit(day).cast(DateType()).alias("valid_from"),
        *LINEAGE,
    )


def dim_clients(staged: DataFrame, day: date) -> DataFrame:
    """Grain: one row per client version (SCD2) seen in the day's client master."""
    described = ("first_name", "last_name", "birth_date", "email", "onboarded_at")
    return scd2_versions(staged, day, "client_key", "client_id", described, CLIENT_TRACKED)


def dim_accounts(staged: DataFrame, day: date) -> DataFrame:
    """Grain: one row per account version (SCD2) seen in the day's account master."""
    described = ("iban", "bic", "currency", "opened_at")
    return scd2_versions(staged, day, "account_key", "account_id", described, ACCOUNT_TRACKED)


def fx_rate(currency: Column) -> Column:
    """EUR per unit of `currency` (reference rates)."""
    pairs = [x for c, (_, rate) in ref.CURRENCIES.items() for x in (F.lit(c), F.lit(rate))]
    return F.create_map(*pairs)[currency].cast(DecimalType(18, 8))


def fact_transactions(
    transactions: DataFrame, accounts: DataFrame, clients: DataFrame, day: date
) -> DataFrame:
    """Grain: one row per posting on one account (an internal transfer is two rows).

    Keys are the dimension versions of the same business day, i.e. valid at posting time; an
    account or client the masters do not know gets the unknown member (-1).
    """
    acc = accounts.select("account_id", "account_key", F.col("client_id").alias("_owner"))
    cli = clients.select(F.col("client_id").alias("_owner"), "client_key")
    money = DecimalType(18, 2)
    signed = F.when(F.col("direction") == "DEBIT", -F.col("amount")).otherwise(F.col("amount"))
    rate = fx_rate(F.col("currency"))
    return (
        transactions.join(F.broadcast(acc), "account_id", "left")
        .join(F.broadcast(cli), "_owner", "left")
        .select(
            F.lit(date_key(day)).alias("date_key"),
            "transaction_id",
            "posted_at",
            F.coalesce("account_key", F.lit(UNKNOWN_KEY)).alias("account_key"),
            F.coalesce("client_key", F.lit(UNKNOWN_KEY)).alias("client_key"),
            "account_id",
            "transaction_type",
            "channel",
            "direction",
            "amount",
            signed.cast(money).alias("signed_amount"),
            "currency",
            rate.alias("fx_rate"),
            F.round(F.col("amount") * rate, 2).cast(money).alias("amount_eur"),
            "balance_after",
            "status",
            "merchant_name",
            "mcc",
            "counterparty_iban",
            "transfer_id",
            "card_masked",
            "country",
            "description",
            *LINEAGE,
        )
    )
