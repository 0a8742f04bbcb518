"""Curated transforms on Spark: facts resolving their keys (unknown member -1), dimensions
falling back to their latest earlier version (the calendar: unit/test_calendar.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bank_assets.model import dimensions, facts, fraud


def test_fact_takes_keys_of_the_day_and_unknown_member_for_orphans(spark):
    from pyspark.sql import functions as F

    day = date(2026, 11, 20)
    clients = dimensions.dim_clients(
        spark.createDataFrame(
            [("C1", "RETAIL", "Paris")], "client_id string, segment string, city string"
        ).select(
            "client_id",
            *[
                F.lit(None).cast("string").alias(c)
                for c in ("first_name", "last_name", "email", "address_line", "postal_code")
            ],
            F.lit(None).cast("date").alias("birth_date"),
            "segment",
            "city",
            *[F.lit("X").alias(c) for c in ("country", "kyc_status", "risk_rating", "status")],
            F.lit(None).cast("date").alias("onboarded_at"),
            *[F.lit(None).cast("string").alias(c) for c in ("source_file", "record_hash")],
            F.lit(day).alias("batch_id"),
            F.lit(None).cast("timestamp").alias("landed_at"),
        ),
        day,
    )
    accounts = spark.createDataFrame(
        [("A1", 11, "C1", "CUR-STD")],
        "account_id string, account_key long, client_id string, product_code string",
    )
    products = spark.createDataFrame([("CUR-STD", 7)], "product_code string, product_key long")
    merchants = spark.createDataFrame([("M1", 3)], "merchant_id string, merchant_key long")
    fx = spark.createDataFrame(
        [("USD", Decimal("0.92")), ("EUR", Decimal("1"))],
        "currency string, eur_per_unit decimal(18,8)",
    )
    tx = spark.createDataFrame(
        [
            ("T1", "A1", "DEBIT", Decimal("10.00"), "USD", "M1"),
            ("T2", "A404", "CREDIT", Decimal("5.00"), "EUR", "M404"),
        ],
        "transaction_id string, account_id string, direction string, "
        "amount decimal(18,2), currency string, merchant_id string",
    ).select(
        "*",
        *[
            F.lit(None).cast(t).alias(c)
            for c, t in (
                ("posted_at", "timestamp"),
                ("country", "string"),
                ("transaction_type", "string"),
                ("channel", "string"),
                ("balance_after", "decimal(18,2)"),
                ("status", "string"),
                ("merchant_name", "string"),
                ("mcc", "string"),
                ("counterparty_iban", "string"),
                ("transfer_id", "string"),
                ("card_masked", "string"),
                ("description", "string"),
                ("batch_id", "date"),
                ("source_file", "string"),
                ("landed_at", "timestamp"),
                ("record_hash", "string"),
            )
        ],
    )
    rows = {
        r.transaction_id: r
        for r in facts.fact_transactions(
            tx,
            tx.select(*fraud.COLUMNS),
            accounts,
            None,
            clients,
            None,
            products,
            merchants,
            fx,
            day,
        ).collect()
    }
    client_key = clients.first().client_key
    assert (rows["T1"].account_key, rows["T1"].client_key) == (11, client_key)
    assert (rows["T2"].account_key, rows["T2"].client_key) == (-1, -1)
    assert (rows["T1"].product_key, rows["T1"].merchant_key) == (7, 3)
    assert (rows["T2"].product_key, rows["T2"].merchant_key) == (-1, -1)
    assert rows["T1"].signed_amount == Decimal("-10.00") and rows["T2"].signed_amount == Decimal(
        "5.00"
    )
    assert rows["T1"].amount_eur == Decimal("9.20") and rows["T1"].date_key == 20261120
    # The version key depends on the tracked attributes only.
    again = dimensions.dim_clients(
        clients.drop("client_key", "row_hash", "valid_from"), date(2026, 11, 21)
    )
    assert again.first().client_key == client_key


def test_a_key_missing_from_the_day_takes_its_latest_earlier_version(spark):
    day = date(2026, 11, 20)
    today = spark.createDataFrame([("C1", 11)], "client_id string, client_key long")
    earlier = spark.createDataFrame(
        [
            ("C1", 10, date(2026, 11, 18)),  # in the day's master: the day's version wins
            ("C2", 20, date(2026, 11, 17)),
            ("C2", 21, date(2026, 11, 19)),  # C2's row quarantined on the 20th: the latest
            ("C2", 20, date(2026, 11, 18)),
        ],
        "client_id string, client_key long, valid_from date",
    )
    rows = dimensions.with_earlier(today, earlier, "client_id").collect()
    assert sorted(tuple(r) for r in rows) == [("C1", 11, False), ("C2", 21, True)]
    # Without earlier days (the first day), the day's rows as they are
    alone = dimensions.with_earlier(today, None, "client_id").collect()
    assert [tuple(r) for r in alone] == [("C1", 11, False)]
    assert day > max(r.valid_from for r in earlier.collect())
