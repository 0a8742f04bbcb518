"""The rule catalogue run by Pandera on real frames: each rule catches what it names and passes
clean rows; staging's quarantine rules are all covered; tolerances and schema drift behave."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from bank_assets.model import quality

DAY = date(2026, 11, 20)


def transactions(**changes) -> pl.DataFrame:
    """Three clean staged postings; `changes` = {column: [values]} replaces whole columns."""
    rows = {
        "transaction_id": ["TX1", "TX2", "TX3"],
        "account_id": ["A1", "A1", "A2"],
        "posted_at": [datetime(2026, 11, 20, h, tzinfo=UTC) for h in (9, 10, 11)],
        "transaction_type": ["CARD_PAYMENT", "ATM_WITHDRAWAL", "TRANSFER_OUT"],
        "channel": ["POS", "ATM", "MOBILE_APP"],
        "direction": ["DEBIT"] * 3,
        "amount": [Decimal("12.50"), Decimal("80.00"), Decimal("250.00")],
        "currency": ["EUR", "EUR", "EUR"],
        "balance_after": [Decimal("100.00"), Decimal("20.00"), Decimal("5.00")],
        "status": ["POSTED"] * 3,
        "merchant_id": ["M1", None, None],
        "merchant_name": ["Cafe", None, None],
        "mcc": ["5812", None, None],
        "counterparty_iban": [None, None, "FR7630006000011234567890189"],
        "transfer_id": [None, None, "TRX1"],
        "card_masked": ["411111******1111", None, None],
        "country": ["FR"] * 3,
        "description": ["CARD PAYMENT Cafe", "ATM WITHDRAWAL", "TRANSFER OUT ref 1234567890123"],
    }
    rows.update(changes)
    return pl.DataFrame(rows)


def failures(table: str, frame: pl.DataFrame) -> dict[str, int]:
    return {r.rule_id: r.failed for r in quality.validate(table, frame, DAY) if r.failed}


def test_clean_rows_pass_every_rule():
    results = quality.validate("staged/transactions", transactions(), DAY)
    assert [r.rule_id for r in results] == [r.id for r in quality.CATALOGUE["staged/transactions"]]
    assert all(r.passed and r.checked == 3 and not r.sample for r in results)


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("paid with 4111111111111111", True),
        ("card 4111 1111 1111 1111 thanks", True),
        ("5500-0000-0000-0004", True),
        ("4111111111111112", False),  # Luhn-invalid
        ("ref 1234567890123", False),  # 13 digits, Luhn-invalid
        ("FR7630006000011234567890189", False),  # an IBAN: no run on word boundaries
        ("TX2026112000000001", False),
    ],
)
def test_card_numbers_are_found_by_luhn(text, card):
    frame = transactions(description=["x", text, None])
    found = failures("staged/transactions", frame).get("no_card_numbers", 0)
    assert found == (1 if card else 0)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"transaction_id": ["TX1", "TX1", "TX3"]}, "key_unique"),
        ({"transaction_id": ["TX1", None, "TX3"]}, "key_unique"),
        ({"amount": [Decimal("12.50"), Decimal("0.00"), Decimal("250.00")]}, "amount_positive"),
        (
            {"currency": ["EUR", "JPY", "EUR"]}
            | {"amount": [Decimal("1"), Decimal("80.5"), Decimal("2")]},
            "currency_minor_units",
        ),
        (
            {
                "posted_at": [datetime(2026, 11, 21, 0, 0, tzinfo=UTC)]
                + [datetime(2026, 11, 20, tzinfo=UTC)] * 2
            },
            "not_in_future",
        ),
        (
            {"amount": [Decimal("12.50"), Decimal("1500.00"), Decimal("250.00")]},
            "amount_within_type_limit",
        ),
        (
            {"counterparty_iban": [None, None, "FR7630006000011234567890188"]},
            "counterparty_iban_valid",
        ),
    ],
)
def test_each_rule_catches_what_it_names(changes, rule):
    results = {
        r.rule_id: r for r in quality.validate("staged/transactions", transactions(**changes), DAY)
    }
    assert {k: r.failed for k, r in results.items() if r.failed} == {rule: results[rule].failed}
    failing = results[rule]
    assert not failing.passed and failing.sample and failing.failed_pct > 0
    assert set(failing.sample[0]) == set(
        next(r for r in quality.CATALOGUE["staged/transactions"] if r.id == rule).columns
    )


def test_orphan_keys_are_fatal_only_above_a_tenth_of_a_percent():
    n = 2_000

    def fact(orphans: int) -> pl.DataFrame:
        keys = [-1] * orphans + list(range(n - orphans))
        return pl.DataFrame({"client_key": keys, "survey_id": [f"S{i}" for i in range(n)]})

    (two,) = quality.validate("curated/dim_satisfaction", fact(2), DAY)
    (three,) = quality.validate("curated/dim_satisfaction", fact(3), DAY)
    assert (two.failed, two.passed) == (2, True)  # 0.1%: tolerated, still counted
    assert (three.failed, three.passed) == (3, False)


def test_balance_chain_and_transfer_legs():
    frame = pl.DataFrame(
        {
            "transaction_id": ["T1", "T2", "T3", "T4", "T5"],
            "account_id": ["A", "A", "A", "B", "C"],
            "posted_at": [datetime(2026, 11, 20, h, tzinfo=UTC) for h in (1, 2, 3, 1, 1)],
            "status": ["POSTED", "DECLINED", "POSTED", "POSTED", "POSTED"],
            "signed_amount": [Decimal(v) for v in ("-10", "-99", "5", "-7", "7")],
            "balance_after": [Decimal(v) for v in ("90", "90", "96", "0", "7")],
            "transfer_id": [None, None, None, "TRF1", "TRF1"],
        }
    )
    rules = {r.id for r in quality.FACT_TRANSACTION_RULES}
    table = "curated/fact_transactions"
    columns = quality.checked_columns(table)
    frame = frame.with_columns(
        [pl.lit(1, pl.Int64).alias(c) for c in columns if c.endswith("_key")]
        + [pl.lit(None, pl.String).alias("merchant_id"), pl.lit("EUR").alias("currency")]
        + [pl.lit(Decimal("1"), pl.Decimal(18, 8)).alias("fx_rate")]
        + [pl.lit("C1").alias("client_id"), pl.lit(False).alias("previous_version")]
    )
    failed = failures(table, frame)
    assert failed == {"balance_chain": 1}  # T3: 90 + 5 is 95, not 96
    broken = frame.with_columns(
        signed_amount=pl.Series([Decimal(v) for v in ("-10", "-99", "6", "-7", "8")])
    )
    assert failures(table, broken) == {"transfer_legs_pair": 2}
    assert {"balance_chain", "transfer_legs_pair"} <= rules


def test_a_missing_column_is_schema_drift_naming_it():
    with pytest.raises(quality.SchemaDrift, match="currency"):
        quality.validate("staged/transactions", transactions().drop("currency"), DAY)


def test_amounts_reconcile_exactly_per_currency():
    landed = pl.DataFrame(
        {
            "currency": ["EUR", "EUR", "JPY"],
            "amount": [Decimal("1.00"), Decimal("2.00"), Decimal("500.00")],
        }
    )
    assert quality.amounts_reconcile("t", DAY, landed, landed).passed
    changed = landed.with_columns(
        amount=pl.Series([Decimal("1.00"), Decimal("2.01"), Decimal("500.00")])
    )
    one_cent = quality.amounts_reconcile("t", DAY, landed, changed)
    assert (one_cent.checked, one_cent.failed, one_cent.sample[0]["currency"]) == (2, 1, "EUR")
    lost = quality.amounts_reconcile("t", DAY, landed, landed.head(2))
    assert not lost.passed and lost.sample == [
        {"currency": "JPY", "source": [1, "500.00"], "here": None}
    ]


@pytest.mark.parametrize(
    ("rows", "history", "normal"),
    [
        (1000, [], True),
        (1000, [900, 1100, 1000], True),
        (400, [900, 1000], False),
        (2500, [1000], False),
    ],
)
def test_volume_against_the_trailing_median_of_the_weekday(rows, history, normal):
    result = quality.volume_vs_trailing_median("t", DAY, rows, history)
    assert result.passed is normal and result.severity == quality.WARN


@pytest.mark.parametrize(
    ("alerts", "postings", "sane"),
    [(14, 10_000, True), (0, 500, True), (0, 1_000_000, False), (300, 10_000, False)],
)
def test_fraud_rate_sanity(alerts, postings, sane):
    assert quality.fraud_rate("t", DAY, alerts, postings).passed is sane


def test_a_currency_without_a_rate_is_fatal_naming_the_currency_and_its_postings():
    from bank_assets.builders.checks import evaluation

    table = "curated/fact_transactions"
    currencies = ["EUR", "USD", "JPY", "USD", "EUR"]
    rates = {"EUR": Decimal("1"), "USD": None, "JPY": None}  # the day's FX file lacks two
    frame = pl.DataFrame(
        {c: [1] * 5 for c in quality.checked_columns(table) if c.endswith("_key")}
        | {
            "transaction_id": [f"T{i}" for i in range(5)],
            "currency": currencies,
            "fx_rate": pl.Series([rates[c] for c in currencies], dtype=pl.Decimal(18, 8)),
            "merchant_id": [None] * 5,
            "transfer_id": [None] * 5,
            "account_id": [f"A{i}" for i in range(5)],
            "posted_at": [datetime(2026, 11, 20, 9, tzinfo=UTC)] * 5,
            "status": ["DECLINED"] * 5,
            "signed_amount": [Decimal("-1")] * 5,
            "balance_after": [Decimal("0")] * 5,
            "client_id": [f"C{i}" for i in range(5)],
            "previous_version": [False] * 5,
        }
    )
    results = {r.rule_id: r for r in quality.validate(table, frame, DAY)}
    known = results["fx_rate_known"]
    assert (known.severity, known.failed, known.passed) == (quality.FATAL, 3, False)
    assert known.sample == [{"currency": "USD", "rows": 2}, {"currency": "JPY", "rows": 1}]
    check = evaluation(known)
    assert not check.passed and "(by currency: USD 2, JPY 1)" in check.description
    assert check.partition == DAY.isoformat() and check.blocking
    assert [r.data for r in check.metadata["sample"].records] == known.sample
    assert [r for r in results.values() if r.failed] == [known]


@pytest.mark.parametrize(
    ("rate", "ok"),
    [("0", False), ("-1", False), ("10000.01", False), ("10000", True), ("0.0062", True)],
)
def test_a_reference_rate_of_zero_or_beyond_the_bound_breaks_rate_in_range(rate, ok):
    frame = pl.DataFrame(
        {
            "currency": ["EUR", "USD"],
            "rate_date": [DAY, DAY],
            "eur_per_unit": pl.Series([Decimal("1"), Decimal(rate)], dtype=pl.Decimal(18, 8)),
        }
    )
    assert failures("staged/fx_rates", frame) == ({} if ok else {"rate_in_range": 1})
