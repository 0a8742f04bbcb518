"""Rules defined once: the day key, the rows-accounted-for verdict (one formula for the check and
dq.results) and the EUR limits of postings at the day's staged rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from bank_assets.builders.checks import accounted_for
from bank_assets.model import quality
from bank_assets.model.keys import CURATED_LINEAGE, STAGED_LINEAGE, date_key
from bank_assets.model.staging import Outcome

DAY = date(2026, 11, 20)
LIMIT = "amount_within_type_limit"


def test_date_key_is_yyyymmdd():
    assert date_key(DAY) == 20261120
    assert date_key(date(2015, 1, 2)) == 20150102


def test_curated_lineage_is_the_staged_lineage_without_the_line():
    assert CURATED_LINEAGE == ("batch_id", "source_file", "landed_at", "record_hash")
    assert set(STAGED_LINEAGE) - set(CURATED_LINEAGE) == {"source_line"}


def outcome(**changes) -> Outcome:
    """100 landed rows as the manifest says: 90 staged, 6 quarantined, 4 duplicates dropped (1 of
    them an exact re-delivery of an earlier day's row)."""
    figures = dict(
        manifest=100, landed=100, staged=90, quarantined=6, duplicates=4, rules={}, redelivered=1
    )
    return Outcome(**(figures | changes))


@pytest.mark.parametrize(
    ("changes", "unaccounted"),
    [
        ({}, 0),
        ({"staged": 89}, 1),  # a row lost between raw and the outputs
        ({"quarantined": 8}, 2),  # rows written twice
        ({"duplicates": 3, "redelivered": 0}, 1),  # a dropped row not counted
        ({"manifest": 101}, 1),  # a row announced but never landed
        ({"manifest": 101, "staged": 89}, 2),  # both
        ({"redelivered": 4}, 0),  # re-deliveries are among the duplicates, not added to them
    ],
)
def test_rows_unaccounted_for(changes, unaccounted):
    o = outcome(**changes)
    assert o.unaccounted == unaccounted
    assert o.figures()["accounted_for"] is (unaccounted == 0)


@pytest.mark.parametrize("changes", [{}, {"staged": 89}, {"manifest": 99}])
def test_the_check_shows_the_verdict_per_day(changes):
    o = outcome(**changes)
    check = accounted_for("staged/transactions", DAY, o)
    assert check.check_name == quality.ROWS_ACCOUNTED_FOR.id
    assert check.partition == DAY.isoformat() and check.blocking
    assert check.passed is (o.unaccounted == 0)
    figures = {k: v for k, v in o.figures().items() if k != "accounted_for"}
    assert {k: check.metadata[k].value for k in figures} == figures
    assert check.metadata["unaccounted"].value == o.unaccounted
    assert (DAY.isoformat() in check.description) is not check.passed


def postings(*rows: tuple[str, str, str]) -> pl.DataFrame:
    """Staged postings (transaction_id, currency, amount), every one an ATM withdrawal (limit
    1,000 EUR)."""
    return pl.DataFrame(
        {
            "transaction_id": [r[0] for r in rows],
            "transaction_type": ["ATM_WITHDRAWAL"] * len(rows),
            "amount": [Decimal(r[2]) for r in rows],
            "currency": [r[1] for r in rows],
        }
    )


def over_limit(frame: pl.DataFrame, rates: dict[str, str] | None) -> list[str]:
    """The postings amount_within_type_limit flags, with the day's staged rates `rates`."""
    inputs = {}
    if rates is not None:
        inputs[quality.FX_RATES] = pl.DataFrame(
            {"currency": list(rates), "eur_per_unit": [Decimal(r) for r in rates.values()]}
        )
    (rule,) = [r for r in quality.CATALOGUE["staged/transactions"] if r.id == LIMIT]
    lf = frame.lazy()
    flags = lf.select(rule.passes(lf, DAY, inputs).fill_null(True)).collect().to_series()
    return frame.filter(~flags)["transaction_id"].to_list()


def test_the_eur_limit_uses_the_days_staged_rate_not_a_fixed_one():
    # 1,000 USD and 1,000 GBP: at the old fixed rates (USD 0.92, GBP 1.17) 920 and 1,170 EUR
    frame = postings(("TX-USD", "USD", "1000.00"), ("TX-GBP", "GBP", "1000.00"))
    assert over_limit(frame, {"EUR": "1", "USD": "0.92", "GBP": "1.17"}) == ["TX-GBP"]
    # the day's rates say otherwise: the verdict follows them both ways
    assert over_limit(frame, {"EUR": "1", "USD": "1.5", "GBP": "0.5"}) == ["TX-USD"]


def test_without_the_days_rates_only_euro_amounts_are_judged():
    frame = postings(("TX-EUR", "EUR", "1500.00"), ("TX-USD", "USD", "9000.00"))
    assert over_limit(frame, None) == ["TX-EUR"]
    assert over_limit(frame, {"USD": "1"}) == ["TX-EUR", "TX-USD"]  # EUR is 1 unless listed


def test_the_rule_declares_what_it_reads_of_the_day():
    assert quality.reads("staged/transactions") == {quality.FX_RATES: ["currency", "eur_per_unit"]}
    assert quality.reads("staged/fx_rates") == {}
