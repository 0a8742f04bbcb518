"""End to end through Dagster, the whole graph: landing files on S3 -> raw -> staged -> curated
-> PostgreSQL, with exact reconciliation against the simulator's manifest and idempotent
re-runs, card numbers masked wherever stored, FX trouble stopping only what needs the rates
(date ranges as one run: test_star_schema.py; slices of the graph: dagster/test_slices.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta

import dagster as dg
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bank_assets.io.lake import day_path
from bank_assets.io.spark.tables import read_day
from bank_assets.model import cards, quality
from bank_assets.model.sources import TRANSACTIONS
from bank_assets.simulator import DEFECTS, simulate
from bank_assets_tests.builders import (
    built,
    checks,
    checksum,
    day_checksum,
    definitions,
    materialize,
    materialized,
    query,
)
from bank_assets_tests.conftest import DAY

pytestmark = pytest.mark.slow
TX = 3_000


def test_one_day_reconciles_exactly_with_the_manifest(resources, lake, pg_dsn):
    (landed,) = simulate(lake, DAY, 1, TX, seed=21)
    manifest = landed.manifest["tables"]
    result = materialize(resources, partition_key=DAY.isoformat())
    assert result.success

    meta = materialized(result)
    tx = manifest["transactions"]
    day_rows = "dagster/partition_row_count"
    assert meta["raw/transactions"][day_rows] == tx["rows"]
    assert meta["staged/transactions"][day_rows] == tx["expected"]["staged"]
    assert meta["quarantine/transactions"][day_rows] == tx["expected"]["quarantined"]
    assert meta["staged/transactions"]["duplicates_dropped"] == tx["expected"]["duplicates_dropped"]
    for name in ("raw/transactions", "curated/fact_transactions", "warehouse/fact_transactions"):
        assert {"seconds", "rows_per_second", day_rows, "dagster/row_count"} <= set(meta[name])
        # the only day loaded: the table's rows are the day's
        assert meta[name]["dagster/row_count"] == meta[name][day_rows]

    # Warehouse rows, counted in PostgreSQL.
    assert query(pg_dsn, "select count(*) from dw.fact_transactions where date_key = 20261120") == [
        (tx["expected"]["staged"],)
    ]
    by_rule = dict(
        query(pg_dsn, "select rule_id, count(*) from quarantine.transactions group by 1")
    )
    planted = tx["defects"]
    expected_rules = {
        rule: planted[kind] * (2 if kind == "conflicting_duplicate" else 1)
        for kind, (_, rule) in DEFECTS.items()
        if rule not in (None, "exact_duplicate")
    }
    assert by_rule == expected_rules
    malformed = query(
        pg_dsn,
        "select reason, source_file, source_line, raw_payload from quarantine.transactions "
        "where rule_id = 'malformed_line' order by source_line limit 1",
    )[0]
    fields = len(TRANSACTIONS.columns)
    assert f"{malformed[1]} line {malformed[2]}: expected {fields} fields" in malformed[0]
    assert malformed[3].count(",") == 7  # the truncated line as landed
    # Orphan accounts resolve to the unknown member, never to NULL.
    assert query(pg_dsn, "select count(*) from dw.fact_transactions where account_key = -1") == [
        (planted["orphan_account"],)
    ]
    assert query(
        pg_dsn,
        "select count(*) from dw.fact_transactions f left join dw.dim_accounts a "
        "using (account_key) where a.account_key is null",
    ) == [(0,)]
    # Landed = staged + quarantined + dropped duplicates, for every source table.
    for name, table in manifest.items():
        landed_rows = meta[f"raw/{name}"][day_rows]
        staged = meta[f"staged/{name}"][day_rows]
        quarantined = meta[f"quarantine/{name}"][day_rows]
        dropped = meta[f"staged/{name}"]["duplicates_dropped"]
        assert landed_rows == staged + quarantined + dropped == table["rows"], name

    # The blocking reconciliation check passed for every source table, with its figures.
    evaluations = result.get_asset_check_evaluations()
    checks = {e.asset_key.path[1]: e for e in evaluations if e.check_name == "rows_accounted_for"}
    assert set(checks) == set(manifest)
    for name, evaluation in checks.items():
        assert evaluation.passed and evaluation.partition == DAY.isoformat()
        figures = {k: v.value for k, v in evaluation.metadata.items()}
        assert figures["landed"] == figures["manifest"] == manifest[name]["rows"]

    # Every rule of the catalogue was checked on its table's day; the fatal ones passed.
    by_rule = {(e.asset_key.to_user_string(), e.check_name): e for e in evaluations}
    for table, rules in quality.CATALOGUE.items():
        for rule in rules:
            evaluation = by_rule[(table, rule.id)]
            assert evaluation.passed or rule.severity == quality.WARN, (table, rule.id)
            if not table.startswith("warehouse/"):  # (SCD2 rules check every version)
                assert evaluation.metadata["checked"].value == meta[table][day_rows]
    for table in ("staged/transactions", "curated/fact_transactions"):
        assert by_rule[(table, "amounts_reconcile")].passed
    loaded = [e for e in evaluations if e.check_name == "loaded_exactly"]
    assert len(loaded) > 10 and all(e.passed for e in loaded)
    upserted = {e.asset_key.path[1]: e for e in evaluations if e.check_name == "keys_loaded"}
    assert {"dim_dates", "dim_products", "fact_loans", "dim_channels"} <= set(upserted)
    assert all(e.passed and e.metadata["checked"].value > 0 for e in upserted.values())
    # The planted orphan accounts are counted, under the 0.1% that would be fatal.
    orphans = by_rule[("curated/fact_transactions", "keys_resolve")].metadata
    assert orphans["failed"].value == tx["defects"]["orphan_account"]
    # Error rules report what staging quarantined for them (none got through).
    amounts = by_rule[("staged/transactions", "amount_positive")].metadata
    assert (amounts["failed"].value, amounts["quarantined"].value) == (
        0,
        tx["defects"]["invalid_amount"],
    )
    # dq.results keeps one row per rule per table for the day, staging's rules included.
    recorded = dict(
        query(
            pg_dsn,
            "select table_name || ':' || rule_id, quarantined from dq.results where batch_id = %s",
            (DAY,),
        )
    )
    assert recorded["staged/transactions:unknown_currency"] == tx["defects"]["unknown_currency"]
    assert recorded["staged/transactions:rows_accounted_for"] == tx["expected"]["quarantined"]
    assert {f"{t}:{r.id}" for t, rules in quality.CATALOGUE.items() for r in rules} <= set(recorded)

    # Re-running the day gives exactly the same warehouse rows.
    before = checksum(pg_dsn)
    assert materialize(resources, partition_key=DAY.isoformat()).success
    assert checksum(pg_dsn) == before


# Card numbers planted in the transactions file, each with another separator, and how they land.
PLANTED_CARDS = {
    "card 4539  1488  0343  6467": "card 4539  14**  ****  6467",
    "4539.1488.0343.6467 paid": "4539.14**.****.6467 paid",
    "nbsp 4539\u00a01488\u00a00343\u00a06467": "nbsp 4539\u00a014**\u00a0****\u00a06467",
    "4539/1488/0343/6467": "4539/14**/****/6467",
    "card:4539148803436467x": "card:453914******6467x",
    "tab 4111\t1111\t1111\t1111": "tab 4111\t11**\t****\t1111",
    "ref 12, 5500-0000-0000-0004": "ref 12, 5500-00**-****-0004",
}


def _plant_cards(lake) -> dict:
    """Rewrite the day's landing transactions and surveys with card numbers: one description
    per separator, a merchant name, a row quarantined for its amount, a malformed line, and a
    survey comment. The same number of lines, so the manifest still holds."""
    (part,) = lake.files(day_path("landing", "transactions", DAY))
    text = lake.read_bytes(lake.relative(part.path)).decode()
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    col = {c: header.index(c) for c in header}
    ids = [r[col["transaction_id"]] for r in rows[1:]]
    single = [
        i
        for i, r in enumerate(rows[1:], start=1)
        if len(r) == len(header)
        and not r[col["transfer_id"]]
        and ids.count(r[col["transaction_id"]]) == 1
    ]
    planted = {}
    for i, card in zip(single, PLANTED_CARDS):
        rows[i][col["description"]] = card
        planted[rows[i][col["transaction_id"]]] = PLANTED_CARDS[card]
    merchant = next(i for i in single[len(PLANTED_CARDS) :] if rows[i][col["merchant_name"]])
    rows[merchant][col["merchant_name"]] = "Shop 6011 1111 1111 1117"
    bad_amount, malformed = single[-1], single[-2]
    rows[bad_amount][col["amount"]] = "12,5O"  # quarantined: invalid_amount
    rows[bad_amount][col["description"]] = "refund to 4539 1488 0343 6467"
    rows[malformed] = [*rows[malformed][:8], "card 4539-1488-0343-6467"]  # quarantined too
    atm = next(
        i
        for i in single[len(PLANTED_CARDS) + 1 : -2]
        if rows[i][col["transaction_type"]] == "ATM_WITHDRAWAL"
        and rows[i][col["currency"]] == "EUR"
    )
    rows[atm][col["amount"]] = "4000.00"  # above the ATM limit: warn, kept
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    lake.write_bytes(lake.relative(part.path), out.getvalue().encode())

    (survey_file,) = lake.files(day_path("landing", "surveys", DAY))
    lines = lake.read_bytes(lake.relative(survey_file.path)).decode().splitlines()
    survey = json.loads(lines[0])
    survey["comment"] = "my card 4539 1488 0343 6467 was charged twice"
    lines[0] = json.dumps(survey)
    lake.write_bytes(lake.relative(survey_file.path), ("\n".join(lines) + "\n").encode())
    return {
        "described": planted,
        "merchant": rows[merchant][col["transaction_id"]],
        "bad_amount": rows[bad_amount][col["transaction_id"]],
        "malformed": rows[malformed][col["transaction_id"]],
        "survey": survey["survey_id"],
        "count": len(PLANTED_CARDS) + 3,
    }


def scan_cards(monkeypatch, capsys, lake_url: str, dsn: str, *args: str) -> tuple[int, str]:
    """`bank-assets scan-cards` as a user runs it, with the test's lake and warehouse."""
    from bank_assets import cli

    monkeypatch.setenv("BANK_ASSETS_LAKE_URL", lake_url)
    monkeypatch.setenv("BANK_ASSETS_PG_DSN", dsn)
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    capsys.readouterr()
    code = cli.main(["scan-cards", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_card_numbers_are_masked_at_landing_and_nowhere_stored_raw(
    resources, lake, pg_dsn, analyst_dsn, s3_lake_url, monkeypatch, capsys
):
    """Card numbers in the landed text, whatever separates their digits: the day goes through,
    each is masked to first 6 / last 4 digits everywhere it is stored (raw, staged, quarantine,
    curated, PostgreSQL, the run's events), the raw asset counts them and a warn alert records
    it; `bank-assets scan-cards` finds no raw number, and finds one planted afterwards."""
    simulate(lake, DAY, 1, 500, seed=6)
    planted = _plant_cards(lake)

    result = materialize(resources, partition_key=DAY.isoformat(), raise_on_error=False)
    assert result.success
    meta = materialized(result)
    assert meta["raw/transactions"]["cards_masked"] == planted["count"]
    assert meta["raw/surveys"]["cards_masked"] == 1
    assert meta["raw/clients"]["cards_masked"] == 0
    evaluations = checks(result)
    masked_check = evaluations[("raw/transactions", "card_numbers_masked")]
    assert not masked_check.passed and masked_check.severity == dg.AssetCheckSeverity.WARN
    assert masked_check.metadata["failed"].value == planted["count"]
    assert evaluations[("raw/clients", "card_numbers_masked")].passed
    guards = [e for (t, c), e in evaluations.items() if c == "no_card_numbers"]
    assert len(guards) == 10 and all(e.passed for e in guards)  # the guard never fires
    warned = evaluations[("staged/transactions", "amount_within_type_limit")]
    assert not warned.passed and warned.metadata["failed"].value >= 1
    alerts = query(pg_dsn, "select severity, subject from dq.alerts where kind = 'rule_warning'")
    for table in ("raw/transactions", "raw/surveys"):
        assert ("warn", f"{table}:card_numbers_masked:{DAY}") in alerts
    assert ("warn", f"staged/transactions:amount_within_type_limit:{DAY}") in alerts

    # Masked where it is stored: the warehouse's facts, quarantine and survey dimension.
    described = dict(
        query(
            pg_dsn,
            "select transaction_id, description from dw.fact_transactions "
            "where transaction_id = any(%s)",
            (list(planted["described"]),),
        )
    )
    assert described == planted["described"]
    assert query(
        pg_dsn,
        "select merchant_name from dw.fact_transactions where transaction_id = %s",
        (planted["merchant"],),
    ) == [("Shop 6011 11** **** 1117",)]
    payloads = dict(
        query(
            pg_dsn,
            "select rule_id, raw_payload from quarantine.transactions where record_key = any(%s)"
            " or raw_payload like %s",
            ([planted["bad_amount"]], f"%{planted['malformed']}%"),
        )
    )
    assert "refund to 4539 14** **** 6467" in payloads["invalid_amount"]
    assert payloads["malformed_line"].endswith('"card 4539-14**-****-6467"')
    comments = query(
        pg_dsn, "select comment from dw.dim_satisfaction where survey_id = %s", (planted["survey"],)
    )
    assert comments == [("my card 4539 14** **** 6467 was charged twice",)]
    # ... and in the run's events (check metadata, logs): nothing to find there.
    assert not [e for e in result.all_events if cards.find(dg.serialize_value(e))]

    # The scan: lake (raw, staged, quarantine, curated) and warehouse hold no raw number.
    code, out = scan_cards(monkeypatch, capsys, s3_lake_url, pg_dsn)
    assert code == 0 and out.startswith("no raw card number in ") and out.count("\n") == 1, out
    # The landing files are the source systems' own: scanned only when asked, and they hold them
    code, out = scan_cards(monkeypatch, capsys, s3_lake_url, pg_dsn, "--include-landing")
    assert code == 1
    assert f"landing {day_path('landing', 'surveys', DAY)}/part-00000.jsonl line 1: " in out
    assert "4539 14** **** 6467" in out and "4539 1488 0343 6467" not in out

    # A raw number written straight into a warehouse table is found, named, shown masked.
    (tx_id,) = list(planted["described"])[:1]
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "update dw.fact_transactions set description = 'x 4539 1488 0343 6467' "
            "where transaction_id = %s",
            (tx_id,),
        )
    code, out = scan_cards(monkeypatch, capsys, s3_lake_url, pg_dsn)
    assert code == 1
    assert (
        f"warehouse dw.fact_transactions.description date_key=20261120, transaction_id={tx_id}: "
        in out
    )
    assert "4539 14** **** 6467" in out and "4539 1488 0343 6467" not in out
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("delete from dw.fact_transactions where transaction_id = %s", (tx_id,))
    assert scan_cards(monkeypatch, capsys, s3_lake_url, pg_dsn)[0] == 0

    # ... and so is one in a Parquet file of the lake.
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"note": ["ok", "pan 5500 0000 0000 0004"]}), sink)
    planted_file = f"{day_path('curated', 'fact_transactions', DAY)}/part-planted.parquet"
    lake.write_bytes(planted_file, sink.getvalue().to_pybytes())
    code, out = scan_cards(monkeypatch, capsys, s3_lake_url, pg_dsn)
    assert code == 1
    assert f"lake {planted_file} row 2 column note: 5500 00** **** 0004" in out

    env = {**os.environ, "BANK_ASSETS_PG_DSN": pg_dsn, "BANK_ASSETS_ANALYST_DSN": analyst_dsn}
    cmd = [sys.executable, "-m", "bank_assets.cli", "dq", "--date", DAY.isoformat(), "--json"]
    report = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    raw = next(r for r in json.loads(report) if r["table"] == "raw/transactions")
    assert (raw["warn_failed"], raw["failing"]) == (1, "card_numbers_masked")


def run_job(resources, day):
    """The job every automation launches, for one day (in process, as the daemon runs it)."""
    job = definitions().resolve_job_def("daily_warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            instance=instance,
            resources=resources,
            partition_key=day.isoformat(),
            raise_on_error=False,
        )


def rewrite_csv(lake, table: str, day, change) -> None:
    """Rewrite the day's landing CSV of `table`: `change(rows)` edits the parsed rows."""
    (part,) = lake.files(day_path("landing", table, day))
    rows = list(csv.reader(io.StringIO(lake.read_bytes(lake.relative(part.path)).decode())))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(change(rows))
    lake.write_bytes(lake.relative(part.path), out.getvalue().encode())


def test_fx_trouble_stops_what_needs_the_rates_never_the_transactions(resources, lake, pg_dsn):
    """Day 2's rate of one currency is 0: quarantined, and the fact's fatal fx_rate_known names
    the currency and its postings (none reaches the warehouse with an empty amount_eur). Day
    3's FX file cannot be read at all: what needs the rates stops, the transactions' staging
    does not. Every landed row is accounted for; day 1 stays as it was."""
    days = [DAY + timedelta(days=i) for i in range(3)]
    landed = simulate(lake, DAY, 3, 600, seed=8)
    assert run_job(resources, days[0]).success
    first_day = day_checksum(pg_dsn, days[0])

    zeroed = "EUR"  # the currency of every account of a small simulated bank
    rewrite_csv(
        lake,
        "fx_rates",
        days[1],
        lambda rows: [[*r[:2], "0.000000"] if r[0] == zeroed else r for r in rows],
    )
    result = run_job(resources, days[1])
    assert not result.success
    evaluations = checks(result)
    quarantined = query(pg_dsn, "select record_key, rule_id, reason from quarantine.fx_rates")
    staged_fx = read_day(lake, "staged", "fx_rates", days[1])["currency"].to_pylist()
    assert zeroed not in staged_fx and len(staged_fx) == 7  # the other rates go on
    assert evaluations[("staged/fx_rates", "rows_accounted_for")].passed
    assert quarantined == [
        (
            zeroed,
            "rate_out_of_range",
            "eur_per_unit 0.000000 is not above 0 and at most 10000 EUR per unit",
        )
    ]
    postings = read_day(lake, "staged", "transactions", days[1], ["currency"])["currency"]
    expected = postings.to_pylist().count(zeroed)
    known = evaluations[("curated/fact_transactions", "fx_rate_known")]
    assert not known.passed and known.metadata["failed"].value == expected > 0
    assert [r.data for r in known.metadata["sample"].records] == [
        {"currency": zeroed, "rows": expected}
    ]
    assert f"(by currency: {zeroed} {expected})" in known.description
    assert {"staged/transactions", "curated/fact_transactions"} <= built(result)
    assert not {"warehouse/fact_transactions", "warehouse/fact_fraudes"} & built(result)
    assert "warehouse/dim_currencies" in built(result)  # the good rates are loaded
    assert query(pg_dsn, "select count(*) from dw.fact_transactions where amount_eur is null") == [
        (0,)
    ]
    assert query(pg_dsn, "select count(*) from dw.dim_currencies where eur_per_unit <= 0") == [(0,)]

    rewrite_csv(lake, "fx_rates", days[2], lambda rows: [["cur", "rate"], *rows[1:]])
    result = run_job(resources, days[2])
    assert not result.success
    done, evaluations = built(result), checks(result)
    assert "raw/fx_rates" not in done
    assert not {"curated/dim_currencies", "curated/fact_transactions"} & done
    assert {"staged/transactions", "quarantine/transactions"} <= done
    assert {"warehouse/quarantine_transactions", "warehouse/dim_clients"} <= done
    tx = landed[2].manifest["tables"]["transactions"]
    figures = evaluations[("staged/transactions", "rows_accounted_for")]
    assert figures.passed and figures.partition == days[2].isoformat()
    assert {k: v.value for k, v in figures.metadata.items()} == {
        "manifest": tx["rows"],
        "landed": tx["rows"],
        "staged": tx["expected"]["staged"],
        "quarantined": tx["expected"]["quarantined"],
        "duplicates_dropped": tx["expected"]["duplicates_dropped"],
        "redelivered": 0,  # the simulator's days share no transaction id
        "unaccounted": 0,
    }
    assert evaluations[("staged/transactions", "amounts_reconcile")].passed
    assert query(
        pg_dsn, "select count(*) from quarantine.transactions where batch_id = %s", (days[2],)
    ) == [(tx["expected"]["quarantined"],)]
    assert query(pg_dsn, "select count(*) from dw.fact_transactions") == [
        (landed[0].manifest["tables"]["transactions"]["expected"]["staged"],)
    ]
    assert day_checksum(pg_dsn, days[0]) == first_day
