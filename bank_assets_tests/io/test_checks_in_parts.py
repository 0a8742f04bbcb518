"""A day checked in parts (issue 17: memory that does not grow with the day) gives what the whole
day gives: the same figures and samples for every rule, when the rows a rule compares (a key's
duplicates, an account's balance chain, a transfer's legs, a landed row and its staged amount)
lie in different files, parts and buckets. The SCD2 rules run as SQL in PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import psycopg
import pytest

from bank_assets.builders import checks
from bank_assets.io.lake import day_path
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model import quality
from bank_assets.model.tables import TABLES

DAY = date(2026, 11, 20)
N, FILES = 40, 4
OVER_LIMIT = (2, 9, 13, 21, 26, 33, 38)  # MOBILE_PAYMENT above its 500 EUR limit (warn)


def _write(lake, zone: str, name: str, frame: pl.DataFrame, files: int = FILES) -> None:
    """`frame` as `files` Parquet files of the day (in row order)."""
    size = -(-frame.height // files)
    for i in range(files):
        out = io.BytesIO()
        frame.slice(i * size, size).write_parquet(out)
        lake.write_bytes(f"{day_path(zone, name, DAY)}/part-{i}.parquet", out.getvalue())


def _staged() -> pl.DataFrame:
    amounts = [Decimal("900.00") if i in OVER_LIMIT else Decimal(f"{i + 1}.50") for i in range(N)]
    ids = [f"TX{i:03}" for i in range(N)]
    ids[35] = ids[5]  # a duplicate key in another file, part and (maybe) bucket
    return pl.DataFrame(
        {
            "transaction_id": ids,
            "account_id": [f"A{i % 3}" for i in range(N)],
            "posted_at": [
                datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=i) for i in range(N)
            ],
            "transaction_type": ["MOBILE_PAYMENT"] * N,
            "channel": ["MOBILE_APP"] * N,
            "direction": ["DEBIT"] * N,
            "amount": pl.Series(amounts, dtype=pl.Decimal(18, 2)),
            "currency": ["EUR"] * N,
            "balance_after": pl.Series([Decimal("0")] * N, dtype=pl.Decimal(18, 2)),
            "status": ["POSTED"] * N,
            "merchant_id": [None] * N,
            "merchant_name": [None] * N,
            "mcc": [None] * N,
            "counterparty_iban": [None] * N,
            "transfer_id": [None] * N,
            "card_masked": [None] * N,
            "country": ["FR"] * N,
            "description": [f"payment {i}" for i in range(N)],
            "source_file": [f"landing/transactions/f{i % 2}.csv" for i in range(N)],
            "source_line": [2 + i // 2 for i in range(N)],
        },
        schema_overrides={c: pl.String for c in ("merchant_id", "merchant_name", "mcc")}
        | {c: pl.String for c in ("counterparty_iban", "transfer_id", "card_masked")},
    )


def _raw(staged: pl.DataFrame) -> pl.DataFrame:
    """The landed rows: text amounts, one landed as 7.51 where staging holds 7.50 (a broken
    reconciliation), and two rows staging quarantined (no staged row: not reconciled)."""
    raw = staged.select(
        pl.col("amount").cast(pl.String),
        "currency",
        pl.col("source_file").alias("_source_file"),
        pl.col("source_line").alias("_line"),
    )
    raw = raw.with_columns(
        amount=pl.when(pl.int_range(pl.len()) == 6).then(pl.lit("7.51")).otherwise("amount")
    )
    extra = pl.DataFrame(
        {"amount": ["1.00", "2.00"], "currency": ["EUR", "EUR"]}
        | {"_source_file": ["landing/transactions/f0.csv"] * 2, "_line": [90, 91]},
        schema=raw.schema,
    )
    return pl.concat([raw, extra])


def _fact(staged: pl.DataFrame) -> pl.DataFrame:
    """The fact of the staged rows: account A0's balance chain breaks twice (row 24, in the
    third file, and row 30, the first of the fourth), transfer T1's legs (rows 4 and 34) do
    not sum to zero, two USD postings lack a rate, a client's account row was an earlier
    version."""
    ids = [f"TX{i:03}" for i in range(N)]
    signed = [-(i + 1) for i in range(N)]
    balance, after = {}, []
    for i in range(N):  # each account's balance: the previous one plus the posted amount
        balance[i % 3] = balance.get(i % 3, 1000) + signed[i] + (1 if i in (24, 30) else 0)
        after.append(balance[i % 3])
    return pl.DataFrame(
        {
            "transaction_id": ids,
            "account_id": [f"A{i % 3}" for i in range(N)],
            "client_id": [f"C{i % 3}" for i in range(N)],
            "posted_at": staged["posted_at"],
            "status": ["POSTED"] * N,
            "signed_amount": pl.Series([Decimal(s) for s in signed], dtype=pl.Decimal(18, 2)),
            "balance_after": pl.Series([Decimal(b) for b in after], dtype=pl.Decimal(18, 2)),
            "transfer_id": ["T1" if i in (4, 34) else None for i in range(N)],
            "currency": ["USD" if i in (11, 31) else "EUR" for i in range(N)],
            "fx_rate": pl.Series(
                [None if i in (11, 31) else Decimal("1") for i in range(N)], dtype=pl.Decimal(18, 8)
            ),
            "amount": staged["amount"],
            "previous_version": [i == 17 for i in range(N)],
            "merchant_id": pl.Series([None] * N, dtype=pl.String),
            **{
                k: [1] * N
                for k in quality.checked_columns("curated/fact_transactions")
                if k.endswith("_key")
            },
        }
    )


@pytest.fixture(params=["local_lake", "lake"])  # a local folder, an S3 endpoint
def day(request):
    lake = request.getfixturevalue(request.param)
    staged = _staged()
    _write(lake, "staged", "transactions", staged)
    _write(lake, "raw", "transactions", _raw(staged))
    fact = _fact(staged)
    _write(lake, "curated", "fact_transactions", fact)
    rates = pl.DataFrame(
        {"currency": ["EUR"], "eur_per_unit": pl.Series([Decimal("1")], dtype=pl.Decimal(18, 8))}
    )
    _write(lake, "staged", "fx_rates", rates, files=1)
    return lake, staged, fact


def _figures(results: list[quality.Result]) -> dict[str, tuple]:
    return {r.rule_id: (r.checked, r.failed, r.sample) for r in results}


@pytest.mark.parametrize("table", ["staged/transactions", "curated/fact_transactions"])
def test_a_day_in_parts_and_buckets_gives_the_whole_days_results(day, table, monkeypatch):
    lake, staged, fact = day
    whole = _figures(checks.validate_days(lake, table, [DAY]))
    monkeypatch.setattr(quality, "PART_ROWS", 7)  # a part per file: 4 parts
    monkeypatch.setattr(quality, "BUCKET_ROWS", 10)  # 4 buckets, the day read 4 times
    parts = _figures(checks.validate_days(lake, table, [DAY]))
    assert parts == whole
    # and the catalogue's rules over the day as one frame say the same
    frame = staged if table.startswith("staged") else fact
    assert {
        r.rule_id: (r.checked, r.failed, r.sample)
        for r in quality.validate(table, frame, DAY, inputs=checks.day_inputs(lake, table, DAY))
    } == {k: v for k, v in whole.items() if k in {r.id for r in quality.CATALOGUE[table]}}

    failed = {k: v[1] for k, v in parts.items() if v[1]}
    if table == "staged/transactions":
        assert failed == {"key_unique": 2, "amount_within_type_limit": 7, "amounts_reconcile": 1}
        # the day's first five failing rows, in the day's order, whatever part they were in
        sample = parts["amount_within_type_limit"][2]
        assert [r["transaction_id"] for r in sample] == [f"TX{i:03}" for i in OVER_LIMIT[:5]]
        assert {r["transaction_id"] for r in parts["key_unique"][2]} == {"TX005"}
        (eur,) = parts["amounts_reconcile"][2]  # 7.51 landed, 7.50 staged
        assert eur["source"][1] == str(sum(staged["amount"]) + Decimal("0.01"))
        assert eur["here"] == [N, str(sum(staged["amount"]))]
    else:
        assert failed == {
            "fx_rate_known": 2,
            "master_version_of_the_day": 1,
            "transfer_legs_pair": 2,
            "balance_chain": 2,
            "amounts_reconcile": 2,  # the two USD postings: staged has them in EUR
        }
        assert parts["fx_rate_known"][2] == [{"currency": "USD", "rows": 2}]
        assert [r["transaction_id"] for r in parts["balance_chain"][2]] == ["TX024", "TX030"]
        assert parts["master_version_of_the_day"][2] == [{"client_id": "C2", "rows": 1}]


def test_every_rule_that_compares_rows_says_over_what():
    """A rule whose predicate looks at other rows (a window, uniqueness) must name the columns
    whose rows belong together (Rule.over), or checking a day in parts would judge it wrongly."""
    for table, rules in quality.CATALOGUE.items():
        for r in rules:
            if r.sql is not None:
                continue
            frame = pl.DataFrame(schema={c: pl.String for c in r.columns}).lazy()
            text = str(r.passes(frame, DAY, {}))
            compares = any(w in text for w in (".over(", "is_unique", "len()", "shift("))
            assert compares == bool(r.over), (table, r.id)


def test_scd2_rules_are_counted_in_postgresql(pg_dsn, local_lake):
    """Broken histories in dw.dim_clients: two current versions, a gap, a skipped version."""
    warehouse = Warehouse(pg_dsn)
    warehouse.apply_ddl()
    d = date.fromisoformat
    open_end = date(9999, 12, 31)
    versions = [  # client, version, valid_from, valid_to, is_current
        ("C1", 1, d("2026-11-01"), d("2026-11-10"), False),
        ("C1", 2, d("2026-11-10"), open_end, True),
        ("C2", 1, d("2026-11-01"), d("2026-11-05"), True),  # current, not open-ended
        ("C2", 2, d("2026-11-05"), open_end, True),
        ("C3", 1, d("2026-11-01"), d("2026-11-03"), False),  # valid to the 3rd, next from the 4th
        ("C3", 2, d("2026-11-04"), open_end, True),
        ("C4", 1, d("2026-11-01"), d("2026-11-02"), False),
        ("C4", 3, d("2026-11-02"), open_end, True),  # version 2 skipped
    ]
    with psycopg.connect(pg_dsn) as conn:
        conn.cursor().executemany(
            "insert into dw.dim_clients (client_key, client_id, row_hash, valid_from, valid_to, "
            "is_current, version) values (%s, %s, 'h', %s, %s, %s, %s)",
            [(i + 1, c, f, t, cur, v) for i, (c, v, f, t, cur) in enumerate(versions)],
        )
    table = TABLES["dw.dim_clients"]
    days = {DAY: 8, DAY + timedelta(days=1): 0}
    results = checks.warehouse_results(
        warehouse, local_lake, "warehouse/dim_clients", table, "curated", "dim_clients", days
    )
    by_day = {(r.rule_id, r.day): r for r in results}
    assert set(by_day) == {
        (rule, day) for rule in ("one_current_version", "versions_chain") for day in days
    }
    one = by_day["one_current_version", DAY]
    rows = len(versions) + 1  # and the unknown member, current and alone
    assert (one.checked, one.failed, one.passed, one.severity) == (rows, 2, False, quality.FATAL)
    assert one.sample == [{"client_id": "C2", "is_current": True}] * 2
    chain = by_day["versions_chain", DAY]
    assert (chain.checked, chain.failed) == (rows, 3)
    assert [(r["client_id"], r["version"]) for r in chain.sample] == [
        ("C2", 1),
        ("C3", 1),
        ("C4", 3),
    ]
    assert chain.sample[0]["valid_to"] == "2026-11-05"  # dates as text, as the lake's checks
