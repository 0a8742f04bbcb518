"""The simulator: deterministic, consistent sources with defects planted at known counts."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import polars as pl
import pytest

from bank_assets.model import cards, quality
from bank_assets.model import reference as ref
from bank_assets.model.iban import is_valid_iban
from bank_assets.model.sources import SOURCES
from bank_assets.simulator import (
    DEFECTS,
    accounts_on,
    build_population,
    clients_on,
    identities,
    places,
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


def _landed(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.*")}


# Simulates seed 3 into the directory argv[1], in an interpreter of its own (its own string
# hashing, its own Faker instances).
_SIMULATE = """
import sys
from bank_assets.io.lake import Lake, LakeConfig
from bank_assets.simulator import simulate
from bank_assets_tests.conftest import DAY
simulate(Lake(LakeConfig(url=sys.argv[1])), DAY, 1, 2_000, seed=3)
"""


def test_seed_decides_the_files_faker_included(tmp_path):
    """Same seed, another process: the same bytes (Faker pools included); another seed:
    other people, merchants and postings."""
    from bank_assets.io.lake import Lake, LakeConfig

    subprocess.run([sys.executable, "-c", _SIMULATE, str(tmp_path / "a")], check=True)
    simulate(Lake(LakeConfig(url=str(tmp_path / "b"))), DAY, 1, 2_000, seed=3)
    simulate(Lake(LakeConfig(url=str(tmp_path / "c"))), DAY, 1, 2_000, seed=4)
    a, b, c = (_landed(tmp_path / x) for x in "abc")
    assert len(a) == len(SOURCES) + 1 and a == b
    for table in ("clients", "merchants", "transactions"):
        (path,) = [p for p in a if p.startswith(f"landing/{table}/")]
        assert a[path] != c[path], table


@pytest.fixture(scope="module")
def people():
    pop = build_population(5, 20_000)
    return pop, clients_on(pop, DAY)


def test_clients_live_at_addresses_that_hold_together(people):
    """Most clients live in France, the others in six neighbours; each address's postal code is
    one of its city's, and a client's names come from its country's Faker locale."""
    _, clients = people
    share = clients["country"].value_counts(normalize=True)
    assert set(share.index) == {"FR", "DE", "ES", "IT", "BE", "GB", "CH"}
    assert 0.85 < share["FR"] < 0.95 and share.drop("FR").min() > 0.01
    codes = {
        (country, city): codes.split()
        for country, rows in places.CITIES.items()
        for city, _, codes in rows
    }
    for country, city, code in clients[["country", "city", "postal_code"]].itertuples(index=False):
        assert (code.split()[0] if country == "GB" else code) in codes[(country, city)], code
    gb = clients.loc[clients["country"] == "GB", "postal_code"]
    assert gb.str.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}").all()
    for country, locale in identities.LOCALES.items():
        person = importlib.import_module(f"faker.providers.person.{locale}").Provider
        theirs = clients[clients["country"] == country]
        assert set(theirs["last_name"]) <= set(person.last_names), country
        assert set(theirs["first_name"]) <= set(person.first_names), country
    at = clients[["address_line", "postal_code"]].value_counts()
    assert len(at) > 0.7 * len(clients) and at.max() < 10  # a household, not a street


def test_emails_are_made_of_the_names(people):
    _, clients = people
    parts = clients["email"].str.extract(
        r"^([a-z0-9-]+)\.([a-z0-9-]+?)([0-9]+)@([a-z0-9.-]+\.[a-z]{2,})$"
    )
    assert parts.notna().all().all()
    assert (parts[2].astype(int) == clients["client_id"].str[1:].astype(int)).all()
    plain = clients["first_name"].str.fullmatch("[A-Za-z]+") & clients["last_name"].str.fullmatch(
        "[A-Za-z]+"
    )
    assert plain.mean() > 0.5
    assert (parts.loc[plain, 0] == clients.loc[plain, "first_name"].str.lower()).all()
    assert (parts.loc[plain, 1] == clients.loc[plain, "last_name"].str.lower()).all()
    assert clients["email"].is_unique and parts[3].nunique() > 10


def test_people_and_merchants_pass_the_rules_and_copy_into_postgresql(people):
    """No card number in any text (phone numbers included: "+49(0)7228 885341" would be one),
    nothing COPY or CSV cannot carry (NUL, tab, line breaks), and the staged tables' rules
    pass."""
    pop, clients = people
    assert clients["phone"].str.count(r"[0-9]").min() >= 8
    for name, frame in (("clients", clients), ("merchants", pop.merchants)):
        for column in frame.columns:
            texts = frame[column].astype(str)
            assert not texts.str.contains(r"[\x00-\x1f\x7f]").any(), (name, column)
            assert [t for t in texts if cards.find(t)] == [], (name, column)
        rows = pl.from_pandas(frame[list(SOURCES[name].columns)])
        failed = [r.rule_id for r in quality.validate(f"staged/{name}", rows, DAY) if not r.passed]
        assert failed == [], name
    names = pop.merchants["merchant_name"]
    assert names.nunique() > 0.8 * len(names) and not names.str.contains(r"\d").any()


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


def test_a_day_without_defects_lands_only_clean_rows(local_lake):
    """--defect-scale 0: no planted defect, every landed posting is expected to stage."""
    (result,) = simulate(local_lake, DAY, 1, 500, seed=11, defect_scale=0)
    tx = result.manifest["tables"]["transactions"]
    assert set(tx["defects"].values()) == {0}
    assert tx["rows"] == 500 == tx["expected"]["staged"]
    assert tx["expected"]["quarantined"] == tx["expected"]["duplicates_dropped"] == 0


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
