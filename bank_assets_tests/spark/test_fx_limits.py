"""The warn rule amount_within_type_limit through the real raw and staged assets: amounts are
converted to EUR with the day's staged fx_rates (read by the check from the lake), not with fixed
reference rates; and staging's reconciliation gives one verdict to the check and dq.results."""

from __future__ import annotations

import csv
import io

import dagster as dg
import psycopg
import pytest

from bank_assets.builders.assets import raw_asset, staged_assets
from bank_assets.builders.checks import accounted_for, staging_results
from bank_assets.io.lake import day_path
from bank_assets.model import quality
from bank_assets.model.sources import SOURCES
from bank_assets.model.staging import STAGING, Outcome
from bank_assets.simulator import simulate
from bank_assets_tests.conftest import DAY

LIMIT = "amount_within_type_limit"


def edit_landed(lake, table: str, edit) -> None:
    """Rewrite the day's landing CSV of `table`: `edit(row)` changes each well-formed row (a dict)
    in place; the simulator's malformed lines stay as they are."""
    (part,) = lake.files(day_path("landing", table, DAY))
    header, *lines = csv.reader(io.StringIO(lake.read_bytes(lake.relative(part.path)).decode()))
    for i, line in enumerate(lines):
        if len(line) == len(header):
            row = dict(zip(header, line, strict=True))
            edit(row)
            lines[i] = [row[c] for c in header]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *lines])
    lake.write_bytes(lake.relative(part.path), out.getvalue().encode())


def read_landed(lake, table: str) -> list[dict]:
    (part,) = lake.files(day_path("landing", table, DAY))
    return list(csv.DictReader(io.StringIO(lake.read_bytes(lake.relative(part.path)).decode())))


def test_the_eur_limit_follows_the_days_staged_rates(resources, lake, pg_dsn):
    """1,000 USD and 1,000 GBP ATM withdrawals (limit 1,000 EUR): at the fixed reference rates
    (USD 0.92, GBP 1.17) the GBP one is over the limit; the day's rates (USD 1.5, GBP 0.5) say
    the USD one is, and the check flags exactly that one. Every other posting is 1.00 EUR."""
    simulate(lake, DAY, 1, 300, seed=11)
    ids = [r["transaction_id"] for r in read_landed(lake, "transactions")]
    planted = {}

    def postings(row: dict) -> None:
        row.update(amount="1.00", currency="EUR")
        # two clean postings of the day: no planted duplicate, transfer or late/future time
        clean = ids.count(row["transaction_id"]) == 1 and not row["transfer_id"]
        if len(planted) < 2 and clean and row["posted_at"].startswith(DAY.isoformat()):
            currency = ("USD", "GBP")[len(planted)]
            planted[currency] = row["transaction_id"]
            row.update(
                transaction_type="ATM_WITHDRAWAL",
                channel="ATM",
                direction="DEBIT",
                amount="1000.00",
                currency=currency,
            )

    edit_landed(lake, "transactions", postings)
    rates = {"USD": "1.5", "GBP": "0.5"}

    def fx_rates(row: dict) -> None:
        row["eur_per_unit"] = rates.get(row["currency"], row["eur_per_unit"])

    edit_landed(lake, "fx_rates", fx_rates)

    # listed transactions first: the run still stages the rates first (they are read by a rule)
    assets = [
        raw_asset(SOURCES["transactions"]),
        staged_assets(STAGING["transactions"]),
        raw_asset(SOURCES["fx_rates"]),
        staged_assets(STAGING["fx_rates"]),
    ]
    result = dg.materialize(assets, partition_key=DAY.isoformat(), resources=resources)
    assert result.success
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    assert checks[("staged/transactions", "rows_accounted_for")].passed
    warned = checks[("staged/transactions", LIMIT)]
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["failed"].value == 1
    (flagged,) = [r.data for r in warned.metadata["sample"].records]
    assert (flagged["transaction_id"], flagged["currency"]) == (planted["USD"], "USD")
    with psycopg.connect(pg_dsn) as conn:
        (failed,) = conn.execute(
            "select failed from dq.results where table_name = %s and rule_id = %s",
            ("staged/transactions", LIMIT),
        ).fetchone()
    assert failed == 1


@pytest.mark.parametrize("changes", [{}, {"staged": 89}, {"manifest": 99}])
def test_staging_records_the_verdict_its_check_gives(spark, changes):
    """dq.results' rows_accounted_for row and the blocking check come from one formula."""
    figures = dict(manifest=100, landed=100, staged=90, quarantined=6, duplicates=4)
    o = Outcome(**(figures | changes), rules={"invalid_amount": 6})
    check = accounted_for("staged/transactions", DAY, o)
    (recorded, *quarantining) = staging_results(STAGING["transactions"], DAY, o)
    assert recorded.rule_id == check.check_name == quality.ROWS_ACCOUNTED_FOR.id
    assert recorded.passed is check.passed is (o.unaccounted == 0)
    assert recorded.failed == o.unaccounted and recorded.sample == [o.figures()]
    by_rule = {r.rule_id: r.quarantined for r in quarantining}
    assert by_rule["invalid_amount"] == 6 and by_rule["missing_field"] == 0
