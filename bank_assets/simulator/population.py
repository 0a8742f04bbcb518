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
from bank_assets.simulator.loans import LoanBook, build_loan_book

FIRST_NAMES = [
    "Camille",
    "Lea",
    "Manon",
    "Chloe",
    "Ines",
    "Jade",
    "Louise",
    "Emma",
    "Alice",
    "Lina",
    "Hugo",
    "Lucas",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Adam",
    "Raphael",
    "Paul",
    "Nathan",
    "Sofia",
    "Marta",
    "Lukas",
    "Jonas",
    "Elena",
    "Marco",
    "Giulia",
    "Sara",
    "Noah",
    "Milan",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Francois",
    "Martinez",
    "Muller",
]
CITIES = (
    ("Paris", "75"),
    ("Lyon", "69"),
    ("Marseille", "13"),
    ("Toulouse", "31"),
    ("Nice", "06"),
    ("Nantes", "44"),
    ("Strasbourg", "67"),
    ("Bordeaux", "33"),
    ("Lille", "59"),
    ("Rennes", "35"),
)
STREETS = [
    "rue de la Paix",
    "avenue Victor Hugo",
    "boulevard Voltaire",
    "rue du Moulin",
    "place de la Gare",
]
MERCHANT_WORDS = "Carrefour|Monoprix|Fnac|Decathlon|Total|Boulangerie|Pharmacie|Cafe|Hotel|Cinema|"
MERCHANT_WORDS += "Librairie|Bistro|Metro|Air|Market|Electro|Mode|Garage|Energie|Bazar"
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
    """Clients and accounts: the same for every day of a seed."""

    clients: pd.DataFrame
    accounts: pd.DataFrame
    opening_cents: np.ndarray  # balance per account in minor units, before the first day
    card_masked: np.ndarray
    merchants: pd.DataFrame
    external_ibans: np.ndarray
    loans: LoanBook
    seed: int


def population_size(transactions: int) -> int:
    """Number of clients for a daily transaction volume (about 20 transactions per client)."""
    return max(50, transactions // 20)


def build_population(seed: int, n_clients: int) -> Population:
    rng = np.random.default_rng([seed, 0])
    ids = np.arange(1, n_clients + 1)
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n_clients)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n_clients)]
    birth = pd.to_datetime("1950-01-01") + pd.to_timedelta(
        rng.integers(0, 365 * 55, n_clients), "D"
    )
    onboarded = pd.to_datetime("2010-01-01") + pd.to_timedelta(
        rng.integers(0, 5000, n_clients), "D"
    )
    clients = pd.DataFrame(
        {
            "client_id": [f"C{i:08d}" for i in ids],
            "first_name": first,
            "last_name": last,
            "birth_date": birth.strftime("%Y-%m-%d"),
            "email": [
                f"{f.lower()}.{g.lower()}{i}@example.com" for f, g, i in zip(first, last, ids)
            ],
            "country": "FR",
            "onboarded_at": onboarded.strftime("%Y-%m-%d"),
        }
    )
    # Every client has a current account; some have a savings account or a card account too.
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
    n_merchants = max(50, n_clients // 25)
    words = MERCHANT_WORDS.split("|")
    merchant_city = rng.integers(0, len(CITIES), n_merchants)
    merchants = pd.DataFrame(
        {
            "merchant_id": [f"M{i:07d}" for i in range(1, n_merchants + 1)],
            "merchant_name": [
                f"{words[a]} {CITIES[c][0]} {i}"
                for i, (a, c) in enumerate(
                    zip(
                        rng.integers(0, len(words), n_merchants),
                        rng.integers(0, len(CITIES), n_merchants),
                    )
                )
            ],
            "mcc": rng.choice(list(ref.MCC), n_merchants),
            "city": [CITIES[c][0] for c in merchant_city],
            "country": "FR",
        }
    )
    external = np.array(
        [
            make_iban("DE", f"{rng.integers(10**7, 10**8)}{rng.integers(10**9, 10**10)}")
            for _ in range(500)
        ]
    )
    return Population(
        clients,
        accounts,
        opening,
        card_masked,
        merchants,
        external,
        build_loan_book(seed, n_clients),
        seed,
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
    address = _versioned(n, day, salt + 1, (300, 1500))
    city = (address * len(CITIES)).astype(np.int64)
    c["address_line"] = [
        f"{1 + int(a * 1e6) % 199} {STREETS[int(a * 1e4) % len(STREETS)]}" for a in address
    ]
    c["postal_code"] = [f"{CITIES[x][1]}{int(a * 1e8) % 999:03d}" for x, a in zip(city, address)]
    c["city"] = [CITIES[x][0] for x in city]
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
