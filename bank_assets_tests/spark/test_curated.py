"""Curated transforms: the calendar, and facts resolving their keys (unknown member -1)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bank_assets.model import dimensions, facts, fraud


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm): the reference the calendar's
    TARGET2 days are checked against, written independently of the `holidays` package."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    return date(year, month, (h + el - 7 * m + 114) % 31 + 1)


def target2_closing_days(year: int) -> set[date]:
    """The TARGET2 rule: New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December."""
    e = easter(year)
    return {
        date(year, 1, 1),
        e - timedelta(days=2),
        e + timedelta(days=1),
        date(year, 5, 1),
        date(year, 12, 25),
        date(year, 12, 26),
    }


@pytest.mark.parametrize(
    ("year", "sunday"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5))],
)
def test_easter(year, sunday):
    assert easter(year) == sunday


def calendar(first: date, last: date) -> list[dict]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(d))) for d in days]


def test_target2_days_are_the_rule_2015_2035():
    rows = calendar(*dimensions.CALENDAR)
    closing = set().union(*(target2_closing_days(y) for y in range(2015, 2036)))
    assert {r["full_date"] for r in rows if r["is_target2_holiday"]} == closing
    assert len(closing) == 6 * 21
    for r in rows:
        weekend = r["full_date"].isoweekday() >= 6
        assert r["is_business_day"] == (not weekend and r["full_date"] not in closing)


def test_french_holidays_are_a_column_of_their_own():
    rows = {r["full_date"]: r for r in calendar(date(2026, 1, 1), date(2026, 12, 31))}
    french = {d: r["french_holiday_name"] for d, r in rows.items() if r["is_french_holiday"]}
    # the eleven national days of metropolitan France in 2026
    assert sorted(french) == [
        date(2026, 1, 1),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),
        date(2026, 5, 25),
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ]
    assert french[date(2026, 7, 14)] == "National Day"
    assert all(
        r["french_holiday_name"] is None for r in rows.values() if not r["is_french_holiday"]
    )
    # a French holiday that is no TARGET2 closing day stays a business day
    armistice = rows[date(2026, 11, 11)]
    assert armistice["is_business_day"] and not armistice["is_target2_holiday"]
    # Good Friday closes TARGET2 but is no national holiday in France
    assert not rows[date(2026, 4, 3)]["is_french_holiday"]


def test_calendar_row_of_good_friday_2026():
    row = dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(date(2026, 4, 3))))
    assert row["date_key"] == 20260403
    assert row["day_name"] == "Friday" and row["day_of_week"] == 5
    assert row["is_target2_holiday"] and not row["is_business_day"] and not row["is_weekend"]
    assert (row["iso_week"], row["quarter"], row["is_month_end"]) == (14, 2, False)
    end = dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(date(2026, 2, 28))))
    assert end["is_month_end"] and end["is_weekend"] and not end["is_business_day"]


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
