"""The simulator: deterministic, consistent sources with defects planted at known counts."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest

from bank_assets.model import reference as ref
from bank_assets.model.iban import is_valid_iban
from bank_assets.simulator import (
    DEFECTS,
    accounts_on,
    build_population,
    clients_on,
    simulate,
    simulate_transactions,
)
from bank_assets.simulator.loans import build_loan_book, loans_on, payments_on
from bank_assets_tests.conftest import DAY

N = 5_000


@pytest.fixture(scope="module")
def clean():
    pop = build_population(7, N // 20)
    day = simulate_transactions(pop, DAY, N, 7, pop.opening_cents)
    table, closing = day.table, day.closing
    return pop, table.to_pandas(), closing


def test_same_seed_same_files(tmp_path):
    from bank_assets.io.lake import Lake, LakeConfig

    a = Lake(LakeConfig(url=str(tmp_path / "a")))
    b = Lake(LakeConfig(url=str(tmp_path / "b")))
    simulate(a, DAY, 1, 2_000, seed=3)
    simulate(b, DAY, 1, 2_000, seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_ibans_are_valid_mod97(clean):
    pop, _, _ = clean
    assert all(is_valid_iban(i) for i in pop.accounts["iban"])
    assert pop.accounts["iban"].is_unique


def test_channel_matches_type_and_direction(clean):
    _, tx, _ = clean
    for t, (direction, channels) in ref.TRANSACTION_TYPES.items():
        rows = tx[tx["transaction_type"] == t]
        assert set(rows["direction"]) <= {direction}
        assert set(rows["channel"]) <= set(channels), t


def test_balances_chain_per_account_and_respect_overdraft(clean):
    pop, tx, closing = clean
    accounts = accounts_on(pop, DAY).reset_index(drop=True)
    position = {a: i for i, a in enumerate(accounts["account_id"])}
    for account_id, rows in tx.groupby("account_id", sort=False):
        i = position[account_id]
        minor = ref.CURRENCIES[accounts.loc[i, "currency"]][0]
        unit = Decimal(1).scaleb(-minor)
        balance = Decimal(int(pop.opening_cents[i])) * unit
        limit = Decimal(str(accounts.loc[i, "overdraft_limit"]))
        for amount, direction, status, after in rows[
            ["amount", "direction", "status", "balance_after"]
        ].itertuples(index=False):
            if status == "POSTED":
                balance += Decimal(amount) if direction == "CREDIT" else -Decimal(amount)
                assert balance >= -limit
            assert Decimal(after) == balance, account_id
        assert Decimal(int(closing[i])) * unit == balance


def test_internal_transfer_legs_pair_up(clean):
    _, tx, _ = clean
    legs = tx[tx["transfer_id"].str.startswith("TRF")]
    assert len(legs) > 0
    for _, pair in legs.groupby("transfer_id"):
        assert sorted(pair["transaction_type"]) == ["TRANSFER_IN", "TRANSFER_OUT"]
        assert pair["amount"].nunique() == 1 and pair["status"].nunique() == 1
        assert pair["posted_at"].str[:19].nunique() <= 2  # same instant, Z or +01:00 text
        assert pair["account_id"].nunique() == 2


def test_only_masked_card_numbers(clean):
    _, tx, _ = clean
    cards = tx.loc[tx["card_masked"] != "", "card_masked"]
    assert len(cards) > 0
    assert cards.str.fullmatch(r"\d{6}\*{6}\d{4}").all()


def test_manifest_counts_planted_defects(local_lake):
    (result,) = simulate(local_lake, DAY, 1, N, seed=11)
    manifest = json.loads(local_lake.read_bytes(f"landing/manifests/{DAY}.json"))
    assert manifest == result.manifest
    tx = manifest["tables"]["transactions"]
    defects = tx["defects"]
    assert set(defects) == set(DEFECTS) and all(n >= 1 for n in defects.values())
    landed = sum(f["rows"] for f in tx["files"])
    assert landed == tx["rows"] == N + sum(defects.values())
    expected = tx["expected"]
    assert landed == expected["staged"] + expected["quarantined"] + expected["duplicates_dropped"]
    # Count the landed lines independently of the manifest.
    lines = 0
    for f in tx["files"]:
        text = local_lake.read_bytes(f["path"]).decode()
        lines += len(text.splitlines()) - 1
    assert lines == landed
    frame = pd.read_json(
        local_lake.abspath(manifest["tables"]["accounts"]["files"][0]["path"]), lines=True
    )
    assert len(frame) == manifest["tables"]["accounts"]["rows"]


def test_masters_change_mid_period_a_few_at_a_time():
    pop = build_population(7, 2_000)
    today, tomorrow = clients_on(pop, DAY), clients_on(pop, DAY + timedelta(days=1))
    assert (clients_on(pop, DAY) == today).all().all()  # a day's master is reproducible
    tracked = ["address_line", "segment", "kyc_status", "risk_rating", "status"]
    changed = (today[tracked] != tomorrow[tracked]).any(axis=1).mean()
    assert 0.001 < changed < 0.05
    a, b = accounts_on(pop, DAY), accounts_on(pop, DAY + timedelta(days=30))
    assert (a["overdraft_limit"] != b["overdraft_limit"]).any() and (
        a["status"] != b["status"]
    ).any()


def test_planted_fraud_is_recorded_and_has_its_signal():
    pop = build_population(7, 1_000)
    day = simulate_transactions(pop, DAY, 20_000, 7, pop.opening_cents)
    tx = day.table.to_pandas().set_index("transaction_id")
    assert set(day.fraud.values()) == {"card_testing", "velocity", "new_country"}
    planted = tx.loc[list(day.fraud)]
    kinds = pd.Series(day.fraud)
    testing = planted[kinds.loc[planted.index] == "card_testing"]
    assert (testing["channel"] == "ECOMMERCE").all()
    assert (testing["posted_at"].str[11:13].astype(int) < 6).all()  # at night (UTC or +01:00)
    abroad = planted[kinds.loc[planted.index] == "new_country"]
    assert (~abroad["country"].isin(["FR", "DE", "ES", "IT", "BE", "NL", "GB", "US", "CH"])).all()


def test_loan_arithmetic_and_settlements():
    book = build_loan_book(7, 4_000)
    assert len(book.loan_id) == 1_000
    valid = book.valid
    assert (
        (book.principal_part * valid).sum(axis=1)[book.approved] == book.principal[book.approved]
    ).all()
    loans = loans_on(book, DAY)
    assert set(loans["status"]) >= {"ACTIVE", "CLOSED", "REJECTED"}
    assert (loans["outstanding_principal"].astype(float) <= loans["principal"].astype(float)).all()
    settled = pd.concat([payments_on(book, DAY + timedelta(days=i)) for i in range(10)])
    assert set(settled["status"]) == {"PAID", "LATE", "PARTIAL", "MISSED"}
    due = settled["amount_due"].map(Decimal)
    parts = sum(settled[c].map(Decimal) for c in ("principal_part", "interest_part", "fee_part"))
    assert (due == parts).all()
    assert settled["installment_id"].is_unique
