"""Raw -> staged classification on a real Spark session: one disposition per row, and the
first failing rule names the reason."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from bank_assets.model import facts, fraud, staging
from bank_assets.model import reference as ref
from bank_assets.model.sources import FX_RATES
from bank_assets_tests.builders import LANDED, raw_transactions
from bank_assets_tests.conftest import DAY


def classify(spark, rows, day=DAY):
    raw = raw_transactions(spark, rows)
    repeated = staging.repeated_keys(raw.select("transaction_id"), "transaction_id")
    repeats = raw.where(F.col("transaction_id").isin(repeated)) if repeated else None
    classified, dropped = staging.classify(raw, repeats, staging.STAGING["transactions"], day)
    out = staging.dispose(classified, staging.STAGING["transactions"], day)
    rows = sorted((r.asDict() for r in out.collect()), key=lambda r: r["source_line"])
    duplicates = sum(dropped.values())
    kept = [r for r in rows if r["_disposition"] != staging.DUPLICATE]
    assert len(rows) == len(kept) + duplicates  # landed = staged + quarantined + duplicates
    return rows, duplicates


def test_valid_row_is_staged_typed_and_in_utc(spark):
    rows, duplicates = classify(spark, [{"posted_at": "2026-11-20T11:30:00+01:00"}])
    (row,) = rows
    assert duplicates == 0
    assert row["_disposition"] == staging.STAGED and row["rule_id"] is None
    assert row["amount"] == Decimal("12.50") and row["balance_after"] == Decimal("100.00")
    assert row["posted_at"].replace(tzinfo=None) == datetime(2026, 11, 20, 10, 30)
    assert row["raw_payload"] is None and len(row["record_hash"]) == 16


@pytest.mark.parametrize(
    ("change", "rule", "reason"),
    [
        ({"_raw_line": "TX9,A1,oops"}, "malformed_line", "line 2: expected 17 fields, found 3"),
        ({"transaction_id": " "}, "missing_key", "missing required field(s): transaction_id"),
        ({"amount": "", "currency": ""}, "missing_field", "amount, currency"),
        ({"posted_at": "20/11/2026 10:00"}, "invalid_timestamp", "cannot be parsed"),
        ({"posted_at": "2026-11-23T10:00:00Z"}, "future_timestamp", "after the end of business"),
        ({"channel": "FAX"}, "invalid_code", "channel 'FAX' is not one of"),
        ({"currency": "EUX"}, "unknown_currency", "'EUX' is not a known ISO 4217"),
        ({"amount": "12,5O"}, "invalid_amount", "'12,5O' is not a positive decimal"),
        ({"amount": "-3.00"}, "invalid_amount", "not a positive"),
        ({"currency": "JPY", "amount": "1500.75"}, "too_many_decimals", "JPY allows (0)"),
        ({"amount": "1.005"}, "too_many_decimals", "EUR allows (2)"),
        ({"balance_after": "n/a"}, "invalid_balance", "balance_after 'n/a'"),
        # posted on another day, before the late-posting window (3 days)
        (
            {"posted_at": "1970-01-01T00:00:00Z"},
            "outside_business_day",
            "posted_at 1970-01-01T00:00:00Z is more than 3 days before business day 2026-11-20",
        ),
        ({"posted_at": "2026-11-16T23:59:59Z"}, "outside_business_day", "on 2026-11-17 or later"),
        ({"posted_at": "2026-11-17T00:30:00+01:00"}, "outside_business_day", "2026-11-20"),
        # fits numeric(18,2), but not in EUR at a rate above 1.11: never staged
        (
            {"amount": "9000000000000000.00", "currency": "GBP"},
            "amount_out_of_range",
            "amount 9000000000000000.00 is not below 1,000,000,000,000",
        ),
        ({"amount": "1000000000000"}, "amount_out_of_range", "its EUR value could overflow"),
        # beyond numeric(18,2): an unparsed value (a non-raising cast), not a Spark error
        ({"amount": "1" + "0" * 20 + ".00"}, "invalid_amount", "is not a positive decimal"),
        ({"balance_after": "-" + "9" * 17}, "invalid_balance", "cannot be parsed"),
        # a NUL: PostgreSQL text cannot hold it (the COPY would fail)
        ({"description": "CARD PAYMENT\u0000Cafe"}, "invalid_character", "field description"),
        ({"transaction_id": "TX\u00001"}, "invalid_character", "field transaction_id holds a NUL"),
    ],
)
def test_bad_rows_are_quarantined_with_rule_and_reason(spark, change, rule, reason):
    rows, _ = classify(spark, [change])
    (row,) = rows
    assert row["_disposition"] == staging.QUARANTINED
    assert row["rule_id"] == rule
    assert reason in row["reason"]
    assert row["raw_payload"]  # the row as landed, for a person to fix and replay
    assert (row["source_file"], row["source_line"]) == ("landing/t/part-0.csv", 2)
    for column in ("raw_payload", "reason", "record_key"):  # loadable into PostgreSQL text
        assert "\u0000" not in (row[column] or ""), column


def test_exact_duplicates_dropped_and_conflicts_quarantined(spark):
    rows, duplicates = classify(
        spark,
        [
            {"transaction_id": "TX1"},
            {"transaction_id": "TX1"},  # exact copy: dropped
            {"transaction_id": "TX1"},  # another copy: dropped
            {"transaction_id": "TX2"},
            {"transaction_id": "TX2", "amount": "13.50"},  # conflict: both quarantined
            {"transaction_id": "TX3"},
        ],
    )
    disposition = [(r["record_key"], r["_disposition"], r["rule_id"]) for r in rows]
    assert disposition == [
        ("TX1", "staged", None),
        ("TX1", "duplicate", "exact_duplicate"),
        ("TX1", "duplicate", "exact_duplicate"),
        ("TX2", "quarantined", "conflicting_duplicate"),
        ("TX2", "quarantined", "conflicting_duplicate"),
        ("TX3", "staged", None),
    ]
    assert duplicates == 2


def test_a_reference_rate_of_zero_or_beyond_the_bound_is_quarantined(spark):
    """A rate of 0 would zero the currency's EUR amounts (and PostgreSQL refuses it): quarantined
    with the reason, like a rate above reference.MAX_EUR_PER_UNIT; the good rates go on."""
    rates = [("EUR", "1"), ("USD", "0"), ("GBP", "0.000000"), ("JPY", "10000.01"), ("CHF", "1.05")]
    rates.append(("SEK", "10000"))  # the bound itself is believable
    raw = spark.createDataFrame(
        [
            (code, DAY.isoformat(), rate, "landing/fx/part-0.csv", line, LANDED, None, None)
            for line, (code, rate) in enumerate(rates, start=2)
        ],
        FX_RATES.raw_schema(),
    )
    classified, _ = staging.classify(raw, None, staging.STAGING["fx_rates"], DAY)
    rows = staging.dispose(classified, staging.STAGING["fx_rates"], DAY).collect()
    outcome = {r["record_key"]: (r["_disposition"], r["rule_id"], r["reason"]) for r in rows}
    assert len(rows) == len(rates)  # nothing lost
    for code in ("EUR", "CHF", "SEK"):
        assert outcome[code] == (staging.STAGED, None, None)
    for code, rate in (("USD", "0"), ("GBP", "0.000000"), ("JPY", "10000.01")):
        disposition, rule, reason = outcome[code]
        assert (disposition, rule) == (staging.QUARANTINED, "rate_out_of_range")
        assert reason == f"eur_per_unit {rate} is not above 0 and at most 10000 EUR per unit"


def test_late_postings_within_the_window_are_staged(spark):
    rows, duplicates = classify(
        spark,
        [
            {"transaction_id": "TX1", "posted_at": "2026-11-18T10:00:00Z"},  # two days late
            {"transaction_id": "TX2", "posted_at": "2026-11-17T00:00:00Z"},  # the window's start
            {"transaction_id": "TX3", "posted_at": "2026-11-20T23:59:59Z"},  # the day's end
            {"transaction_id": "TX4", "posted_at": "2026-11-16T23:59:59Z"},  # one second older
        ],
    )
    assert [(r["record_key"], r["rule_id"]) for r in rows] == [
        ("TX1", None),
        ("TX2", None),
        ("TX3", None),
        ("TX4", "outside_business_day"),
    ]
    assert duplicates == 0


@pytest.mark.parametrize(
    ("table", "row", "column"),
    [
        ("loans", {"term_months": "99999999999"}, "term_months"),  # int beyond 2^31
        ("loans", {"principal": "1" + "0" * 17}, "principal"),  # beyond numeric(18,2)
        ("accounts", {"interest_rate": "1000.5"}, "interest_rate"),  # beyond numeric(9,6)
        ("fx_rates", {"eur_per_unit": "1" + "0" * 11}, "eur_per_unit"),  # beyond numeric(18,8)
    ],
)
def test_out_of_range_numbers_are_unparsed_values_not_spark_errors(spark, table, row, column):
    """ANSI mode: a plain cast that overflows raises and stops the day; staging's parses do not."""
    valid = {
        "loans": dict(
            loan_id="L1",
            client_id="C1",
            product_code="LOAN-PERS",
            applied_on="2026-11-01",
            principal="1000.00",
            status="ACTIVE",
        ),
        "accounts": dict(
            account_id="A1",
            iban="FR7630006000011234567890189",
            client_id="C1",
            account_type="CURRENT",
            currency="EUR",
            status="OPEN",
        ),
        "fx_rates": dict(currency="USD", rate_date="2026-11-20", eur_per_unit="0.92"),
    }[table]
    spec = staging.STAGING[table]
    values = {**valid, **row}
    data = [(*[values.get(c) for c in spec.source.columns], "landing/x.csv", 2, LANDED, None, None)]
    raw = spark.createDataFrame(data, spec.source.raw_schema())
    classified, dropped = staging.classify(raw, None, spec, DAY)
    (out,) = staging.dispose(classified, spec, DAY).collect()
    assert (out["_disposition"], out["rule_id"], out[column]) == (
        staging.QUARANTINED,
        "invalid_value",
        None,
    )
    assert f"{column} '{row[column]}' cannot be parsed" in out["reason"]
    assert (out["source_file"], out["source_line"]) == ("landing/x.csv", 2)
    assert sum(dropped.values()) == 0


def test_an_amount_whose_eur_value_overflows_is_quarantined_and_the_facts_are_built(spark):
    """The largest amount staging lets through, at the largest rate it lets through, still fits
    numeric(18,2) in EUR: no staged row can stop the day's facts with an overflow."""
    spec = staging.STAGING["transactions"]
    largest = str(Decimal(ref.MAX_AMOUNT) - Decimal("0.01"))
    raw = raw_transactions(
        spark,
        [
            {"transaction_id": "TX1", "currency": "GBP", "amount": largest},
            {"transaction_id": "TX2", "currency": "GBP", "amount": "9000000000000000.00"},
            {"transaction_id": "TX3", "direction": "CREDIT", "transaction_type": "REFUND"},
        ],
    )
    classified, dropped = staging.classify(raw, None, spec, DAY)
    out = staging.dispose(classified, spec, DAY).cache()
    (bad,) = out.where(F.col("_disposition") == staging.QUARANTINED).collect()
    assert (bad["record_key"], bad["rule_id"], bad["source_file"], bad["source_line"]) == (
        "TX2",
        "amount_out_of_range",
        "landing/t/part-0.csv",
        3,
    )
    assert out.count() == 3 and sum(dropped.values()) == 0
    staged = out.where(F.col("_disposition") == staging.STAGED).select(
        *staging.staged_columns(spec)
    )
    fx = spark.createDataFrame(
        [("GBP", Decimal(ref.MAX_EUR_PER_UNIT)), ("EUR", Decimal(1))],
        "currency string, eur_per_unit decimal(18,8)",
    )
    accounts = spark.createDataFrame(
        [("A1", 1, "C1", "CUR-STD")],
        "account_id string, account_key int, client_id string, product_code string",
    )
    fact = facts.fact_transactions(
        staged,
        staged.select(*fraud.COLUMNS),
        accounts,
        None,
        spark.createDataFrame([("C1", 1)], "client_id string, client_key int"),
        None,
        spark.createDataFrame([("CUR-STD", 1)], "product_code string, product_key int"),
        spark.createDataFrame([("M0000001", 1)], "merchant_id string, merchant_key int"),
        fx,
        DAY,
    )
    built = {r["transaction_id"]: (r["amount_eur"], r["signed_amount"]) for r in fact.collect()}
    assert built == {
        "TX1": (Decimal("9999999999999900.00"), -Decimal(largest)),
        "TX3": (Decimal("12.50"), Decimal("12.50")),
    }
