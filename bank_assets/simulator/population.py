"""The bank's customers and what they hold: clients, their accounts and cards, the merchants
they pay, and the master data as exported on any day.

Deterministic for a seed: the population is drawn once from the seed; a tracked attribute
(address, segment, status, overdraft limit...) changes at moments derived from (row, seed), so
the master of any day is known without replaying the days before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from bank_assets.model import reference as ref
from bank_assets.model.iban import french_ibans, make_iban
from bank_assets.simulator import identities, places
from bank_assets.simulator.loans import LoanBook, build_loan_book

CARD_BINS = ("497010", "535522", "412345", "456789")
BICS = ("BNKAFRPPXXX", "BNKAFRPPLYO", "BNKAFRPPMRS", "BNKAFRPPTLS")
OVERDRAFTS = (0.0, 500.0, 1000.0, 2000.0)
ACCOUNT_PRODUCTS = {
    "CURRENT": ("CUR-STD", "CUR-PREM"),
    "SAVINGS": ("SAV-LIVA", "SAV-LDDS"),
    "CARD": ("CARD-CLASSIC", "CARD-GOLD"),
}


@dataclass
class Population:
    """Clients, accounts, merchants and loans: the same for every day of a seed."""

    clients: pd.DataFrame
    accounts: pd.DataFrame
    opening_cents: np.ndarray  # balance per account in minor units, before the first day
    card_masked: np.ndarray
    merchants: pd.DataFrame
    external_ibans: np.ndarray
    loans: LoanBook
    seed: int
    addresses: pd.DataFrame  # identities.address_book: the addresses clients live (move) at
    address_first: np.ndarray  # per client, the first row of its country's block there
    address_count: np.ndarray  # per client, the rows of that block


def population_size(transactions: int) -> int:
    """Number of clients for a daily transaction volume (about 20 transactions per client)."""
    return max(50, transactions // 20)


def build_population(seed: int, n_clients: int) -> Population:
    """The population of a seed. Identities (names, e-mails, phones, addresses, merchant names)
    sample the Faker pools with their own stream; `rng` draws everything else."""
    rng = np.random.default_rng([seed, 0])
    people = np.random.default_rng([seed, 0, 1])
    clients = _clients(rng, people, seed, n_clients)
    accounts, opening, card_masked = _accounts(rng, clients)
    merchants = _merchants(rng, people, seed, max(50, n_clients // 25))
    external = np.array(
        [
            make_iban("DE", f"{rng.integers(10**7, 10**8)}{rng.integers(10**9, 10**10)}")
            for _ in range(500)
        ]
    )
    residents = clients["country"].value_counts().sort_index()
    addresses = identities.address_book(seed, residents.to_dict())
    block = identities.ADDRESSES_PER_RESIDENT * residents  # the rows of each country's block
    return Population(
        clients,
        accounts,
        opening,
        card_masked,
        merchants,
        external,
        build_loan_book(seed, n_clients),
        seed,
        addresses,
        (block.cumsum() - block)[clients["country"]].to_numpy(),
        block[clients["country"]].to_numpy(),
    )


def _clients(
    rng: np.random.Generator, people: np.random.Generator, seed: int, n: int
) -> pd.DataFrame:
    """The client master's fixed part: identity, birth date, country of residence, onboarding."""
    # One client in ten lives abroad, spread evenly over identities.ABROAD (six countries: 30
    # values). These two draws once picked names from fixed lists: every later draw of `rng`
    # (accounts, balances, cards) is still the one it was.
    abroad = rng.integers(0, 30, n) < 3
    where = np.array(identities.ABROAD)[rng.integers(0, 30, n) % len(identities.ABROAD)]
    country = np.where(abroad, where, identities.HOME)
    birth = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 55, n), "D")
    onboarded = pd.to_datetime("2010-01-01") + pd.to_timedelta(rng.integers(0, 5000, n), "D")
    ids = np.arange(1, n + 1)
    named = identities.people(seed, country, ids, people)
    return pd.DataFrame(
        {
            "client_id": [f"C{i:08d}" for i in ids],
            "first_name": named["first_name"],
            "last_name": named["last_name"],
            "birth_date": birth.strftime("%Y-%m-%d"),
            "email": named["email"],
            "phone": named["phone"],  # not in the clients export (sources.CLIENTS) yet
            "country": country,
            "onboarded_at": onboarded.strftime("%Y-%m-%d"),
        }
    )


def _accounts(
    rng: np.random.Generator, clients: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The account master's fixed part, opening balances and masked card numbers. Every client
    has a current account; some have a savings account or a card account too."""
    n_clients = len(clients)
    owner = np.concatenate(
        [
            np.arange(n_clients),
            rng.choice(n_clients, n_clients // 3, replace=False),
            rng.choice(n_clients, n_clients // 6, replace=False),
        ]
    )
    kinds = np.array(
        ["CURRENT"] * n_clients + ["SAVINGS"] * (n_clients // 3) + ["CARD"] * (n_clients // 6)
    )
    n_accounts = len(owner)
    account_numbers = rng.choice(10**10, n_accounts, replace=False) + 10**10
    branch = rng.integers(1, 41, n_accounts)
    currency = np.where(
        kinds == "CURRENT",
        rng.choice(["EUR", "USD", "GBP", "CHF"], n_accounts, p=[0.94, 0.03, 0.02, 0.01]),
        "EUR",
    )
    opened = pd.to_datetime("2012-01-01") + pd.to_timedelta(rng.integers(0, 4500, n_accounts), "D")
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{n:011d}" for n in account_numbers],
            "iban": french_ibans(30001, branch, account_numbers),
            "bic": np.array(BICS)[branch % len(BICS)],
            "client_id": clients["client_id"].to_numpy()[owner],
            "product_code": [
                ACCOUNT_PRODUCTS[k][int(x)] for k, x in zip(kinds, rng.integers(0, 2, n_accounts))
            ],
            "account_type": kinds,
            "currency": currency,
            "branch_code": [f"B{b:03d}" for b in branch],
            "interest_rate": np.where(kinds == "SAVINGS", 0.03, 0.0),
            "opened_at": opened.strftime("%Y-%m-%d"),
        }
    )
    minor = np.array([ref.CURRENCIES[c][0] for c in currency])
    opening = np.round(rng.lognormal(math.log(2500), 1.0, n_accounts) * 10.0**minor).astype(
        np.int64
    )
    card_masked = np.array(
        [
            f"{b}******{x:04d}"
            for b, x in zip(rng.choice(CARD_BINS, n_accounts), rng.integers(0, 10**4, n_accounts))
        ]
    )
    return accounts, opening, card_masked


def _merchants(
    rng: np.random.Generator, people: np.random.Generator, seed: int, n: int
) -> pd.DataFrame:
    """The card acquirer's merchant list: French shops in the ten biggest cities."""
    city = rng.integers(0, 10, n)
    # Two draws the fixed name lists took before Faker: kept, so that the MCCs and external IBANs
    # drawn after them stay what they were.
    rng.integers(0, 20, n), rng.integers(0, 10, n)
    mcc = rng.choice(list(ref.MCC), n)
    return pd.DataFrame(
        {
            "merchant_id": [f"M{i:07d}" for i in range(1, n + 1)],
            "merchant_name": identities.merchant_names(seed, mcc, people),
            "mcc": mcc,
            "city": [places.CITIES[identities.HOME][c][0] for c in city],
            "country": identities.HOME,
        }
    )


# ---- master data on a day: tracked attributes change at deterministic moments -------------


def _uniform(index: np.ndarray, version: np.ndarray, salt: int) -> np.ndarray:
    """A uniform draw in [0, 1) per (row, version, salt): a splitmix64 hash, so any day's value
    is known without replaying the days before it."""
    x = index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x ^= version.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
    x ^= np.uint64((salt * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _versioned(n: int, day: date, salt: int, period_days: tuple[int, int]) -> np.ndarray:
    """Per row, a uniform draw that changes every `period` days (period and phase per row):
    the attribute's value on `day`. About 1/period of the rows change on any given day."""
    i = np.arange(n)
    lo, hi = period_days
    period = lo + (_uniform(i, np.zeros(n), salt) * (hi - lo)).astype(np.int64)
    phase = (_uniform(i, np.ones(n), salt) * period).astype(np.int64)
    return _uniform(i, (day.toordinal() + phase) // period + 2, salt)


def _choose(u: np.ndarray, options, p) -> np.ndarray:
    edges = np.cumsum(p)[:-1] / np.sum(p)
    return np.array(options)[np.searchsorted(edges, u, side="right")]


def clients_on(pop: Population, day: date) -> pd.DataFrame:
    """The client master as exported on `day`: address, segment, KYC status, risk rating and
    status change mid-period (the SCD2 work of dim_clients)."""
    c = pop.clients.copy()
    n, salt = len(c), pop.seed * 1_000
    # A move stays within the client's country (its block of the address book).
    address = _versioned(n, day, salt + 1, (300, 1500))
    row = pop.address_first + (address * pop.address_count).astype(np.int64)
    for column in ("address_line", "postal_code", "city"):
        c[column] = pop.addresses[column].to_numpy()[row]
    c["segment"] = _choose(
        _versioned(n, day, salt + 2, (400, 2000)), ref.SEGMENTS, [0.72, 0.18, 0.04, 0.06]
    )
    c["kyc_status"] = _choose(
        _versioned(n, day, salt + 3, (200, 900)), ref.KYC_STATUSES, [0.9, 0.06, 0.04]
    )
    c["risk_rating"] = _choose(
        _versioned(n, day, salt + 4, (300, 1200)), ref.RISK_RATINGS, [0.7, 0.25, 0.05]
    )
    c["status"] = _choose(
        _versioned(n, day, salt + 5, (500, 2500)), ("ACTIVE", "DORMANT"), [0.96, 0.04]
    )
    return c


def accounts_on(pop: Population, day: date) -> pd.DataFrame:
    """The account master as exported on `day`: status and overdraft limit change mid-period."""
    a = pop.accounts.copy()
    n, salt = len(a), pop.seed * 1_000
    a["status"] = _choose(
        _versioned(n, day, salt + 11, (200, 1000)), ("OPEN", "BLOCKED"), [0.98, 0.02]
    )
    current = a["account_type"].to_numpy() == "CURRENT"
    limit = _choose(_versioned(n, day, salt + 12, (300, 1200)), OVERDRAFTS, [0.3, 0.4, 0.2, 0.1])
    a["overdraft_limit"] = np.where(current, limit, 0.0)
    return a
