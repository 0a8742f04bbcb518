"""Raw -> staged classification on a real Spark session: one disposition per row, and the
first failing rule names the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from bank_assets.lib import staging
from bank_assets.lib.sources import FX_RATES, TRANSACTIONS
from bank_assets_tests.conftest import DAY

VALID = {
    "transaction_id": "TX1",
    "account_id": "A1",
    "posted_at": "2026-11-20T10:00:00Z",
    "transaction_type": "CARD_PAYMENT",
    "channel": "POS",
    "direction": "DEBIT",
    "amount": "12.50",
    "currency": "EUR",
    "balance_after": "100.00",
    "status": "POSTED",
    "merchant_id": "M0000001",
    "merchant_name": "Cafe",
    "mcc": "5812",
    "counterparty_iban": "",
    "transfer_id": "",
    "card_masked": "497010******1234",
    "country": "FR",
    "description": "CARD PAYMENT Cafe",
}
LANDED = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)


def raw_rows(spark, rows: list[dict]):
    data = []
    for line, row in enumerate(rows, start=2):
        values = {**VALID, **row}
        malformed = values.pop("_raw_line", None)
        source = [None if malformed else values[c] for c in TRANSACTIONS.columns]
        error = "expected 17 fields, found 3" if malformed else None
        data.append((*source, "landing/t/part-0.csv", line, LANDED, malformed, error))
    return spark.createDataFrame(data, TRANSACTIONS.raw_schema())


def classify(spark, rows):
    raw = raw_rows(spark, rows)
    repeated = staging.repeated_keys(raw.select("transaction_id"), "transaction_id")
    repeats = raw.where(F.col("transaction_id").isin(repeated)) if repeated else None
    classified, duplicates = staging.classify(raw, repeats, staging.STAGING["transactions"], DAY)
    out = staging.dispose(classified, staging.STAGING["transactions"], DAY)
    return sorted((r.asDict() for r in out.collect()), key=lambda r: r["source_line"]), duplicates


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
    ],
)
def test_bad_rows_are_quarantined_with_rule_and_reason(spark, change, rule, reason):
    rows, _ = classify(spark, [change])
    (row,) = rows
    assert row["_disposition"] == staging.QUARANTINED
    assert row["rule_id"] == rule
    assert reason in row["reason"]
    assert row["raw_payload"]  # the row as landed, for a person to fix and replay


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
