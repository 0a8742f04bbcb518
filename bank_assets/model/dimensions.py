"""Staged -> curated: the star-schema tables, as pure DataFrame -> DataFrame functions.

Surrogate keys are deterministic: `xxhash64(natural key, row_hash of the tracked attributes)`.
The same version of a client always gets the same key, in every run and every environment, so
facts can carry their dimension keys in the lake (readable without PostgreSQL), re-running a day
reproduces exactly the same rows, and a new SCD2 version appears only when a tracked attribute
really changes. The unknown member has key -1: facts never hold a NULL key.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DateType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from bank_assets.model import reference as ref
from bank_assets.model.keys import CURATED_LINEAGE, UNKNOWN_KEY, date_key

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
# Described attributes are type 1: the latest export's value holds for every version of the key
# (io/warehouse/loader.py, scd2). They identify or reach the client (names, e-mail, birth date, the
# account's IBAN/BIC): a change is a correction or a new contact detail, not a new state to
# analyse by, and a rectified name or birth date must not survive in older versions.
CLIENT_DESCRIBED = ("first_name", "last_name", "birth_date", "email", "onboarded_at")
ACCOUNT_DESCRIBED = ("iban", "bic", "currency", "opened_at")


# TARGET2 closing days (New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December) decide
# a business day; French public holidays (national, metropolitan) are a column of their own, named
# in English whatever the locale. Each computes a year on first use.
TARGET2 = holidays.financial_holidays("XECB")
FRANCE = holidays.country_holidays("FR", language="en_US")


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
        StructField("is_french_holiday", BooleanType(), False),
        StructField("french_holiday_name", StringType(), True),
    ]
)
CALENDAR = (date(2015, 1, 1), date(2035, 12, 31))


def calendar_row(day: date) -> tuple:
    """One dim_dates row, in DIM_DATES_SCHEMA order."""
    iso = day.isocalendar()
    weekend = iso.weekday >= 6
    holiday = day in TARGET2
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
        day in FRANCE,
        FRANCE.get(day),
    )


def dim_dates(spark: SparkSession, day: date) -> DataFrame:
    """Grain: one row per calendar day of 2015-2035 (and the partition's day if outside)."""
    first, last = min(CALENDAR[0], day), max(CALENDAR[1], day)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return spark.createDataFrame([calendar_row(d) for d in days], DIM_DATES_SCHEMA)


def scd2_versions(
    staged: DataFrame,
    day: date,
    key: str,
    natural_key: str,
    described: tuple[str, ...],
    tracked: tuple[str, ...],
) -> DataFrame:
    """One row per version seen in the day's master export, keyed by
    xxhash64(natural key, row_hash of the tracked attributes); `valid_from` is the day. The
    `described` attributes are not part of the version (type 1: see CLIENT_DESCRIBED).

    The warehouse load (io/warehouse/loader.py, scd2) chains the versions into valid_from/valid_to.
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
        *CURATED_LINEAGE,
    )


def dim_clients(staged: DataFrame, day: date) -> DataFrame:
    """Grain: one row per client version (SCD2) seen in the day's client master."""
    return scd2_versions(staged, day, "client_key", "client_id", CLIENT_DESCRIBED, CLIENT_TRACKED)


def dim_accounts(staged: DataFrame, day: date) -> DataFrame:
    """Grain: one row per account version (SCD2) seen in the day's account master."""
    return scd2_versions(
        staged, day, "account_key", "account_id", ACCOUNT_DESCRIBED, ACCOUNT_TRACKED
    )


def natural_key(column: str) -> Column:
    """The surrogate key of a type-1 dimension row: xxhash64 of its natural key (-1 if none)."""
    return F.when(F.col(column).isNull(), F.lit(UNKNOWN_KEY)).otherwise(F.xxhash64(F.col(column)))


# The columns `with_key` reads of each dimension (natural key, surrogate key): read alone, a
# dimension's key columns are small enough to come from the driver (builders/assets.keys_of).
KEY_READS = {
    "dim_accounts": ("account_id", "account_key"),
    "dim_clients": ("client_id", "client_key"),
    "dim_products": ("product_code", "product_key"),
    "dim_merchants": ("merchant_id", "merchant_key"),
}


def with_key(rows: DataFrame, dimension: DataFrame, natural: str, key: str) -> DataFrame:
    """`rows` with the surrogate `key` of their `natural` key in the day's `dimension` rows (the
    version valid that day; NULL where none). Dimensions of a day are small: broadcast."""
    return rows.join(F.broadcast(dimension.select(natural, key)), natural, "left")


# How far back a fact looks for the version of a client or account missing from the day's master
# export (its row quarantined, or left out): a week of the curated dimension's days.
EARLIER_DAYS = 7


def with_earlier(today: DataFrame, earlier: DataFrame | None, natural: str) -> DataFrame:
    """The day's dimension rows (`today`: the columns wanted), plus for each natural key missing
    from them its latest row of the days before (`earlier`: the same columns and `valid_from`);
    `previous_version` says which. A master row quarantined for a fixable reason then leaves
    its postings on the version the warehouse still holds as current (the SCD2 load closes a
    version only when the key's next version arrives), not on the unknown member."""
    columns = today.columns
    of_the_day = today.select(*columns, F.lit(False).alias("previous_version"))
    if earlier is None:
        return of_the_day
    # usually empty: the day's master holds every key of the days before
    missing = earlier.join(F.broadcast(today.select(natural)), natural, "left_anti")
    latest = F.row_number().over(Window.partitionBy(natural).orderBy(F.col("valid_from").desc()))
    previous = missing.withColumn("_latest", latest).where(F.col("_latest") == 1)
    return of_the_day.unionByName(previous.select(*columns, F.lit(True).alias("previous_version")))


def key_or_unknown(column: str) -> Column:
    """A looked-up key column, the unknown member (-1) where it did not resolve."""
    return F.coalesce(F.col(column), F.lit(UNKNOWN_KEY)).alias(column)


def code_key(column: Column, codes) -> Column:
    """The key of a reference code: its 1-based position in `codes` (-1 if unknown)."""
    mapping = F.create_map(*[x for i, c in enumerate(codes, 1) for x in (F.lit(c), F.lit(i))])
    return F.coalesce(mapping[column], F.lit(UNKNOWN_KEY)).cast("smallint")


def dim_products(staged: DataFrame, day: date) -> DataFrame:
    """Grain: one row per product (type 1: the latest catalogue wins)."""
    return staged.select(
        natural_key("product_code").alias("product_key"),
        "product_code",
        "product_name",
        "category",
        "interest_rate",
        "monthly_fee",
        *CURATED_LINEAGE,
    )


def dim_merchants(staged: DataFrame, day: date) -> DataFrame:
    """Grain: one row per merchant, with its ISO 18245 category description."""
    descriptions = F.create_map(*[x for k, v in ref.MCC.items() for x in (F.lit(k), F.lit(v))])
    return staged.select(
        natural_key("merchant_id").alias("merchant_key"),
        "merchant_id",
        "merchant_name",
        "mcc",
        descriptions[F.col("mcc")].alias("mcc_description"),
        "city",
        "country",
        *CURATED_LINEAGE,
    )


def dim_currencies(fx_rates: DataFrame, day: date) -> DataFrame:
    """Grain: one row per ISO 4217 currency, with its minor units and latest EUR rate."""
    names = F.create_map(*[x for k, v in ref.CURRENCY_NAMES.items() for x in (F.lit(k), F.lit(v))])
    minor = F.create_map(*[x for k, (m, _) in ref.CURRENCIES.items() for x in (F.lit(k), F.lit(m))])
    return fx_rates.select(
        code_key(F.col("currency"), ref.CURRENCIES).alias("currency_key"),
        F.col("currency").alias("currency_code"),
        names[F.col("currency")].alias("currency_name"),
        minor[F.col("currency")].cast("smallint").alias("minor_units"),
        "eur_per_unit",
        "rate_date",
        *CURATED_LINEAGE,
    )


def nps_category(nps: Column) -> Column:
    return F.when(nps >= 9, "PROMOTER").when(nps >= 7, "PASSIVE").otherwise("DETRACTOR")


def dim_satisfaction(
    surveys: DataFrame, clients: DataFrame, products: DataFrame, day: date
) -> DataFrame:
    """Grain: one row per survey response, keyed to the client version valid that day."""
    keyed = with_key(surveys, clients, "client_id", "client_key")
    return with_key(keyed, products, "product_code", "product_key").select(
        F.xxhash64("survey_id").alias("survey_key"),
        "survey_id",
        F.lit(date_key(day)).alias("date_key"),
        key_or_unknown("client_key"),
        key_or_unknown("product_key"),
        "client_id",
        "product_code",
        "channel",
        "service",
        "responded_at",
        F.col("csat").cast("smallint").alias("csat"),
        F.col("nps").cast("smallint").alias("nps"),
        nps_category(F.col("nps")).alias("nps_category"),
        F.col("complaint").alias("is_complaint"),
        "comment",
        *CURATED_LINEAGE,
    )
