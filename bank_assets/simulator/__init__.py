"""Source-system simulator: writes a day's landing files and the manifest that completes the day.

Vectorized with numpy and pyarrow (1,000,000 transactions in a few seconds) and deterministic for
a seed: the population (clients, accounts) comes from the seed alone, each day's activity from
(seed, day). Balances chain per account within a day and across the days of one call; a debit
that would take an account below its overdraft limit is declined. Internal transfers are two
legs (TRANSFER_OUT and TRANSFER_IN) sharing a transfer id.

Defect rows are planted at known rates and counted in the manifest, so the pipeline's
reconciliation (landed = staged + quarantined + dropped duplicates) can be checked exactly.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bank_assets.io.lake import Lake, day_path, manifest_path
from bank_assets.model import reference as ref
from bank_assets.model.iban import french_ibans, make_iban
from bank_assets.model.sources import SOURCES, TRANSACTIONS
from bank_assets.simulator.loans import (
    LoanBook,
    arrears_cents,
    build_loan_book,
    cents_text,
    loans_on,
    payments_on,
)

ROWS_PER_FILE = 250_000

# Planted defects in the transactions file: kind -> rate per clean transaction.
# `rule` is the staging rule that must catch it (None: the row is valid and is staged).
DEFECTS: dict[str, tuple[float, str | None]] = {
    "exact_duplicate": (0.002, "exact_duplicate"),
    "conflicting_duplicate": (0.0005, "conflicting_duplicate"),
    "malformed_line": (0.0002, "malformed_line"),
    "invalid_amount": (0.0002, "invalid_amount"),
    "unknown_currency": (0.0002, "unknown_currency"),
    "too_many_decimals": (0.0001, "too_many_decimals"),
    "future_timestamp": (0.0002, "future_timestamp"),
    "orphan_account": (0.0003, None),
}

# Transaction mix for single-leg postings (internal transfers are added as leg pairs).
TYPE_MIX = {
    "CARD_PAYMENT": 0.30,
    "ONLINE_PURCHASE": 0.13,
    "MOBILE_PAYMENT": 0.09,
    "TRANSFER_OUT": 0.05,
    "TRANSFER_IN": 0.09,
    "ATM_WITHDRAWAL": 0.08,
    "CASH_DEPOSIT": 0.05,
    "DIRECT_DEBIT": 0.08,
    "FEE": 0.03,
    "INTEREST": 0.03,
    "REFUND": 0.04,
    "CHARGEBACK": 0.03,
}
# Median amount in EUR and log-normal spread per type.
AMOUNT_EUR = {
    "CARD_PAYMENT": (35, 0.9),
    "ONLINE_PURCHASE": (45, 1.0),
    "MOBILE_PAYMENT": (20, 0.8),
    "TRANSFER_OUT": (250, 1.1),
    "TRANSFER_IN": (900, 0.9),
    "ATM_WITHDRAWAL": (80, 0.6),
    "CASH_DEPOSIT": (300, 0.9),
    "DIRECT_DEBIT": (70, 0.8),
    "FEE": (5, 0.6),
    "INTEREST": (3, 1.0),
    "REFUND": (40, 0.9),
    "CHARGEBACK": (60, 0.9),
}
INTERNAL_TRANSFER_SHARE = 0.04  # share of rows that are legs of an internal transfer

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
FOREIGN_COUNTRIES = ("DE", "ES", "IT", "BE", "NL", "GB", "US", "CH")
CARD_BINS = ("497010", "535522", "412345", "456789")
BICS = ("BNKAFRPPXXX", "BNKAFRPPLYO", "BNKAFRPPMRS", "BNKAFRPPTLS")
OVERDRAFTS = (0.0, 500.0, 1000.0, 2000.0)
FAR_COUNTRIES = ("BR", "NG", "TH", "PH", "MX")  # where planted "new country" fraud happens
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


@dataclass
class DayResult:
    day: date
    manifest: dict
    closing_cents: np.ndarray = field(repr=False)


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


def _fmt_minor(values: np.ndarray, minor: np.ndarray) -> pa.Array:
    """Amounts in minor units -> decimal strings with the currency's number of decimals."""
    neg = values < 0
    absval = np.abs(values)
    scale = np.where(minor == 0, 1, 100)
    whole = pa.array(absval // scale).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(absval % scale).cast(pa.string()), 2, "0")
    text = pc.if_else(pa.array(minor == 0), whole, pc.binary_join_element_wise(whole, frac, "."))
    return pc.if_else(pa.array(neg), pc.binary_join_element_wise("-", text, ""), text)


def _group_cumsum(values: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (rows sorted by group; group_start marks firsts)."""
    total = np.cumsum(values)
    starts = np.flatnonzero(group_start)
    offsets = np.repeat(total[starts] - values[starts], np.diff(np.append(starts, len(values))))
    return total - offsets


@dataclass
class DayTransactions:
    table: pa.Table  # the clean postings, in time order
    closing: np.ndarray = field(repr=False)  # balance per account after the day, minor units
    fraud: dict[str, str] = field(repr=False)  # planted fraud: transaction id -> fraud type


def _plant_fraud(
    rng: np.random.Generator, victims: np.ndarray, n: int, types: list[str]
) -> dict[str, np.ndarray]:
    """Fraud rows with a signal, on EUR accounts (amounts in cents):

    card_testing  a night-time burst of 4 small card-not-present purchases, then a large one
    velocity      8 card payments within about 4 minutes
    new_country   one large card payment in a country the client never pays in
    """
    bursts = max(1, n // 10_000)
    rows: dict[str, list] = {k: [] for k in ("account", "type", "seconds", "cents", "kind")}

    def add(account, type_name, seconds, cents, kind):
        rows["account"].append(np.full(len(seconds), account))
        rows["type"].append(np.full(len(seconds), types.index(type_name)))
        rows["seconds"].append(np.asarray(seconds))
        rows["cents"].append(np.asarray(cents))
        rows["kind"].append(np.full(len(seconds), ref.FRAUD_TYPES.index(kind) + 1))

    for a in rng.choice(victims, bursts):
        start = rng.integers(1_800, 12_600)
        times = start + np.cumsum(rng.integers(40, 180, 5)) + np.array([0, 0, 0, 0, 400])
        cents = np.append(rng.integers(50, 300, 4), rng.integers(40_000, 150_000))
        add(a, "ONLINE_PURCHASE", times, cents, "card_testing")
    for a in rng.choice(victims, bursts):
        times = rng.integers(8 * 3600, 21 * 3600) + np.cumsum(rng.integers(15, 40, 8))
        add(a, "CARD_PAYMENT", times, rng.integers(2_000, 8_000, 8), "velocity")
    for a in rng.choice(victims, max(1, n // 8_000)):
        add(
            a,
            "CARD_PAYMENT",
            [rng.integers(9 * 3600, 22 * 3600)],
            [rng.integers(40_000, 150_000)],
            "new_country",
        )
    return {k: np.concatenate(v) for k, v in rows.items()}


def simulate_transactions(
    pop: Population, day: date, n: int, seed: int, opening: np.ndarray
) -> DayTransactions:
    """The day's clean postings (sorted by time), each account's closing balance, and the
    planted fraud. Blocked accounts do not transact; overdraft limits are the day's."""
    rng = np.random.default_rng([seed, day.toordinal()])
    acc = accounts_on(pop, day)
    usable = (acc["account_type"].to_numpy() != "SAVINGS") & (acc["status"].to_numpy() == "OPEN")
    active = np.flatnonzero(usable)
    weights = rng.lognormal(0, 0.8, len(active))
    weights /= weights.sum()
    types = list(TYPE_MIX)
    eur = acc["currency"].to_numpy() == "EUR"
    fraud = _plant_fraud(rng, np.flatnonzero(usable & eur), n, types)
    n_fraud = len(fraud["account"])

    n_pairs = int((n - n_fraud) * INTERNAL_TRANSFER_SHARE / 2)
    n_single = n - n_fraud - 2 * n_pairs
    m = n - n_fraud  # rows before the fraud rows
    types = list(TYPE_MIX)
    single_type = rng.choice(
        len(types), n_single, p=np.array(list(TYPE_MIX.values())) / sum(TYPE_MIX.values())
    )
    # Internal transfers move euros between two different EUR accounts.
    eur_active = np.isin(active, np.flatnonzero(eur))
    out_acc = rng.choice(
        active[eur_active], n_pairs, p=weights[eur_active] / weights[eur_active].sum()
    )
    eur_accounts = np.flatnonzero(eur)
    in_pos = rng.integers(0, len(eur_accounts), n_pairs)
    in_acc = eur_accounts[in_pos]
    in_acc = np.where(in_acc == out_acc, eur_accounts[(in_pos + 1) % len(eur_accounts)], in_acc)
    account = np.concatenate(
        [rng.choice(active, n_single, p=weights), out_acc, in_acc, fraud["account"]]
    )
    type_idx = np.concatenate(
        [
            single_type,
            np.full(n_pairs, types.index("TRANSFER_OUT")),
            np.full(n_pairs, types.index("TRANSFER_IN")),
            fraud["type"],
        ]
    )
    pair = np.concatenate(
        [np.full(n_single, -1), np.arange(n_pairs), np.arange(n_pairs), np.full(n_fraud, -1)]
    )
    kind = np.concatenate([np.zeros(m, np.int64), fraud["kind"]])

    # Time of day: quiet nights, busy days (UTC seconds since midnight).
    hours = rng.choice(24, n, p=_hour_profile())
    seconds = hours * 3600 + rng.integers(0, 3600, n)
    seconds[n_single + n_pairs : m] = seconds[n_single : n_single + n_pairs]  # legs share a time
    seconds[m:] = np.minimum(fraud["seconds"], 86_399)
    account_ccy = pd.Categorical(acc["currency"], categories=list(ref.CURRENCIES)).codes
    minor_of = np.array([units for units, _ in ref.CURRENCIES.values()])
    currency_idx = account_ccy[account]
    minor = minor_of[currency_idx]
    eur_rate = np.array([r for _, r in ref.CURRENCIES.values()])[currency_idx]
    median = np.array([AMOUNT_EUR[t][0] for t in types])[type_idx]
    sigma = np.array([AMOUNT_EUR[t][1] for t in types])[type_idx]
    amount_major = np.exp(rng.normal(np.log(median), sigma)) / eur_rate
    atm = type_idx == types.index("ATM_WITHDRAWAL")
    amount_major[atm] = np.maximum(20, np.round(amount_major[atm] / 20) * 20)
    cents = np.maximum(1, np.round(amount_major * 10.0**minor)).astype(np.int64)
    out_rows = slice(n_single, n_single + n_pairs)
    in_rows = slice(n_single + n_pairs, m)
    cents[in_rows] = cents[out_rows]  # both legs move the same amount (same-currency transfer)
    cents[m:] = fraud["cents"]

    directions = np.array([ref.TRANSACTION_TYPES[t][0] for t in types])[type_idx]
    debit = directions == "DEBIT"
    signed = np.where(debit, -cents, cents)

    # Sort by account and time; chain balances; decline debits that break the overdraft limit.
    order = np.lexsort((np.arange(n), seconds, account))
    account, seconds, signed, debit = account[order], seconds[order], signed[order], debit[order]
    type_idx, pair, cents, minor, currency_idx, kind = (
        type_idx[order],
        pair[order],
        cents[order],
        minor[order],
        currency_idx[order],
        kind[order],
    )
    first = np.ones(n, bool)
    first[1:] = account[1:] != account[:-1]
    limit = (acc["overdraft_limit"].to_numpy() * 10.0 ** minor_of[account_ccy])[account]
    start_balance = opening[account]
    posted = np.ones(n, bool)
    is_out = type_idx == types.index("TRANSFER_OUT")
    for _ in range(25):
        balance = start_balance + _group_cumsum(np.where(posted, signed, 0), first)
        violation = posted & debit & (balance < -limit)
        # An internal transfer's credit leg follows its debit leg.
        declined_pairs = np.unique(pair[is_out & (pair >= 0) & ~(posted & ~violation)])
        follow = posted & (pair >= 0) & ~is_out & np.isin(pair, declined_pairs)
        if not violation.any() and not follow.any():
            break
        posted &= ~(violation | follow)
    balance = start_balance + _group_cumsum(np.where(posted, signed, 0), first)
    closing = opening.copy()
    last = np.append(np.flatnonzero(first)[1:] - 1, n - 1) if n else np.array([], int)
    closing[account[last]] = balance[last]

    # Back to time order for the export; ids follow time.
    by_time = np.lexsort((account, seconds))
    account, seconds, signed, debit = (
        account[by_time],
        seconds[by_time],
        signed[by_time],
        debit[by_time],
    )
    type_idx, pair, cents, minor, currency_idx, kind = (
        type_idx[by_time],
        pair[by_time],
        cents[by_time],
        minor[by_time],
        currency_idx[by_time],
        kind[by_time],
    )
    balance, posted = balance[by_time], posted[by_time]
    type_names = np.array(types)[type_idx]

    def pick(values, index: np.ndarray, where: np.ndarray | None = None) -> pa.Array:
        """values[index] as an Arrow string array ('' where `where` is False)."""
        taken = pc.take(pa.array(np.asarray(values, dtype=object), pa.string()), pa.array(index))
        return taken if where is None else pc.if_else(pa.array(where), taken, "")

    def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
        digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
        return pc.binary_join_element_wise(prefix, digits, "")

    # Channel consistent with type: each type draws from its own allowed channels.
    channel_idx = np.zeros(n, dtype=np.int64)
    for t_i, t in enumerate(types):
        rows = type_idx == t_i
        options = [ref.CHANNELS.index(c) for c in ref.TRANSACTION_TYPES[t][1]]
        channel_idx[rows] = np.array(options)[rng.integers(0, len(options), rows.sum())]
    merchant_rows = np.isin(
        type_names, ["CARD_PAYMENT", "ONLINE_PURCHASE", "MOBILE_PAYMENT", "REFUND", "CHARGEBACK"]
    )
    m_idx = rng.integers(0, len(pop.merchants), n)
    merchant_name = pick(pop.merchants["merchant_name"], m_idx, merchant_rows)
    card_rows = np.isin(
        type_names, ["CARD_PAYMENT", "ONLINE_PURCHASE", "ATM_WITHDRAWAL", "REFUND", "CHARGEBACK"]
    )
    transfer = np.isin(type_names, ["TRANSFER_IN", "TRANSFER_OUT"])
    # The counterparty of an internal leg is the other leg's account.
    other = np.full(n, -1)
    for leg_out in (True, False):
        rows = np.flatnonzero((pair >= 0) & ((type_names == "TRANSFER_OUT") == leg_out))
        other_rows = np.flatnonzero((pair >= 0) & ((type_names == "TRANSFER_OUT") != leg_out))
        pos = np.argsort(pair[other_rows])
        other[rows] = account[other_rows[pos[np.searchsorted(pair[other_rows][pos], pair[rows])]]]
    external = pick(pop.external_ibans, rng.integers(0, len(pop.external_ibans), n), transfer)
    counterparty = pc.if_else(
        pa.array(pair >= 0), pick(acc["iban"], np.maximum(other, 0)), external
    )
    ymd = f"{day:%Y%m%d}"
    transfer_id = pc.if_else(
        pa.array(pair >= 0),
        numbered(f"TRF{ymd}", np.maximum(pair, 0), 7),
        pc.if_else(pa.array(transfer), numbered(f"TRX{ymd}", np.arange(n), 8), ""),
    )
    # About 2% of accounts travel on a given day: most of their card payments and cash
    # withdrawals happen in one foreign country. Planted new-country fraud is in a far country.
    travel = rng.integers(0, len(FOREIGN_COUNTRIES), len(acc))
    travelling = (rng.random(len(acc)) < 0.02)[account]
    abroad = (
        np.isin(type_names, ["CARD_PAYMENT", "ATM_WITHDRAWAL"])
        & travelling
        & (rng.random(n) < 0.7)
        & (kind == 0)
    )
    new_country = kind == ref.FRAUD_TYPES.index("new_country") + 1
    country = pc.if_else(
        pa.array(abroad),
        pick(FOREIGN_COUNTRIES, travel[account]),
        pc.if_else(
            pa.array(new_country),
            pick(FAR_COUNTRIES, rng.integers(0, len(FAR_COUNTRIES), n)),
            "FR",
        ),
    )
    type_text = pick([t.replace("_", " ") for t in types], type_idx)
    description = pc.if_else(
        pa.array(merchant_rows),
        pc.binary_join_element_wise(type_text, merchant_name, " "),
        type_text,
    )

    # ISO 8601 times: most in UTC ("Z"), a tenth with the Paris winter offset (same instant).
    local = seconds + 3600
    next_day = local >= 86_400
    posted_at = pc.if_else(
        pa.array(rng.random(n) < 0.1),
        pc.binary_join_element_wise(
            pc.if_else(pa.array(next_day), f"{day + timedelta(days=1)}T", f"{day}T"),
            _clock(np.where(next_day, local - 86_400, local)),
            "+01:00",
            "",
        ),
        pc.binary_join_element_wise(f"{day}T", _clock(seconds), "Z", ""),
    )
    transaction_id = numbered(f"TX{ymd}", np.arange(1, n + 1), 8)
    table = pa.table(
        {
            "transaction_id": transaction_id,
            "account_id": pick(acc["account_id"], account),
            "posted_at": posted_at,
            "transaction_type": pick(types, type_idx),
            "channel": pick(ref.CHANNELS, channel_idx),
            "direction": pc.if_else(pa.array(debit), "DEBIT", "CREDIT"),
            "amount": _fmt_minor(cents, minor),
            "currency": pick(list(ref.CURRENCIES), currency_idx),
            "balance_after": _fmt_minor(balance, minor),
            "status": pc.if_else(pa.array(posted), "POSTED", "DECLINED"),
            "merchant_id": pick(pop.merchants["merchant_id"], m_idx, merchant_rows),
            "merchant_name": merchant_name,
            "mcc": pick(pop.merchants["mcc"], m_idx, merchant_rows),
            "counterparty_iban": counterparty,
            "transfer_id": transfer_id,
            "card_masked": pick(pop.card_masked, account, card_rows),
            "country": country,
            "description": description,
        }
    )
    planted = np.flatnonzero(kind > 0)
    fraud_types = np.array(ref.FRAUD_TYPES)[kind[planted] - 1]
    ids = pc.take(transaction_id, pa.array(planted)).to_pylist()
    return DayTransactions(table, closing, dict(zip(ids, fraud_types.tolist())))


def _clock(seconds: np.ndarray) -> pa.Array:
    """Seconds since midnight -> 'HH:MM:SS'."""
    parts = [seconds // 3600, seconds // 60 % 60, seconds % 60]
    text = [pc.utf8_lpad(pa.array(p).cast(pa.string()), 2, "0") for p in parts]
    return pc.binary_join_element_wise(*text, ":")


def _hour_profile() -> np.ndarray:
    profile = np.array(
        [
            1,
            0.6,
            0.4,
            0.3,
            0.3,
            0.5,
            1.5,
            3,
            5,
            6,
            6.5,
            7,
            8,
            7,
            6.5,
            6.5,
            7,
            8,
            8.5,
            7,
            5,
            3.5,
            2.5,
            1.5,
        ]
    )
    return profile / profile.sum()


def plant_defects(
    table: pa.Table, day: date, seed: int, scale: float, known_accounts: int
) -> tuple[pa.Table, list[str], dict[str, int]]:
    """Add defect rows (and malformed lines) to a day's clean postings; returns their counts."""
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    n = len(table)
    counts = {
        kind: (max(1, round(n * rate * scale)) if scale > 0 and n >= 100 else 0)
        for kind, (rate, _) in DEFECTS.items()
    }
    # Orphans are tolerated up to 0.1% of a day's postings (above, the keys_resolve check is
    # fatal): a healthy day stays under it, so small days plant fewer (800 postings: none).
    counts["orphan_account"] = min(counts["orphan_account"], int(n * 0.001))
    # Defects are copies of single-leg rows (never transfer legs), each row used at most once.
    candidates = np.flatnonzero(pc.equal(table["transfer_id"], "").to_numpy(zero_copy_only=False))
    picks = rng.permutation(candidates)[: sum(counts.values())]
    groups: dict[str, np.ndarray] = {}
    start = 0
    for kind, k in counts.items():
        groups[kind] = picks[start : start + k]
        start += k
    ymd = f"{day:%Y%m%d}"
    extra_seq = iter(range(1, 10**7))

    def fresh_ids(part: pa.Table) -> pa.Array:
        return pa.array([f"TX{ymd}9{next(extra_seq):07d}" for _ in range(len(part))], pa.string())

    def variant(kind: str, **changes: Callable[[pa.Table], pa.Array]) -> pa.Table:
        part = table.take(groups[kind])
        for column, make in changes.items():
            part = part.set_column(part.schema.get_field_index(column), column, make(part))
        return part

    future = (datetime(day.year, day.month, day.day) + timedelta(days=3, hours=10)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    extras = [
        variant("exact_duplicate"),
        variant("conflicting_duplicate", amount=lambda p: _bump(p["amount"])),
        variant(
            "invalid_amount",
            transaction_id=lambda p: fresh_ids(p),
            amount=lambda p: pa.array(["12,5O"] * len(p)),
        ),
        variant(
            "unknown_currency",
            transaction_id=lambda p: fresh_ids(p),
            currency=lambda p: pa.array(["EUX"] * len(p)),
        ),
        variant(
            "too_many_decimals",
            transaction_id=lambda p: fresh_ids(p),
            currency=lambda p: pa.array(["JPY"] * len(p)),
            amount=lambda p: pa.array(["1500.75"] * len(p)),
        ),
        variant(
            "future_timestamp",
            transaction_id=lambda p: fresh_ids(p),
            posted_at=lambda p: pa.array([future] * len(p)),
        ),
        variant(
            "orphan_account",
            transaction_id=lambda p: fresh_ids(p),
            account_id=lambda p: pa.array(
                [f"A{99_000_000_000 + known_accounts + i:011d}" for i in range(len(p))],
                pa.string(),
            ),
        ),
    ]
    malformed_src = variant("malformed_line", transaction_id=lambda p: fresh_ids(p))
    malformed = [
        ",".join(f'"{v}"' for v in row[:8])
        for row in zip(*(malformed_src[c].to_pylist() for c in malformed_src.column_names))
    ]
    # Extras go to random places in the file: order by position (clean rows keep theirs).
    combined = pa.concat_tables([table, *extras])
    position = np.concatenate([np.arange(n, dtype=float), rng.uniform(0, n, len(combined) - n)])
    combined = combined.take(np.argsort(position, kind="stable"))
    return combined, malformed, counts


def _bump(amounts: pa.Array) -> pa.Array:
    """A conflicting version of an amount: one more unit, same number of decimals."""
    out = []
    for a in amounts.to_pylist():
        whole, _, frac = a.partition(".")
        out.append(f"{int(whole) + 1}.{frac}" if frac else str(int(whole) + 1))
    return pa.array(out)


def expected_counts(counts: dict[str, int], clean_rows: int) -> dict[str, int]:
    """What staging must produce for the planted defects (the reconciliation target)."""
    quarantined = sum(
        k for kind, k in counts.items() if DEFECTS[kind][1] not in (None, "exact_duplicate")
    )
    quarantined += counts["conflicting_duplicate"]  # the original row of each conflict too
    return {
        "staged": clean_rows - counts["conflicting_duplicate"] + counts["orphan_account"],
        "quarantined": quarantined,
        "duplicates_dropped": counts["exact_duplicate"],
    }


def to_csv_lines(table: pa.Table) -> list[bytes]:
    """CSV rows (no header) of a table of strings, one line each."""
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
    return buf.getvalue().splitlines()


def write_day(
    lake: Lake,
    pop: Population,
    day: date,
    transactions: int,
    seed: int,
    opening: np.ndarray,
    defect_scale: float = 1.0,
    progress: Callable[[str], None] = lambda _: None,
) -> DayResult:
    """Simulate one day and write its landing files; the manifest goes last (completes the day)."""
    progress("transactions")
    simulated = simulate_transactions(pop, day, transactions, seed, opening)
    clean = simulated.table
    landed, malformed, defects = plant_defects(clean, day, seed, defect_scale, len(pop.accounts))
    lines = to_csv_lines(landed)
    rng = np.random.default_rng([seed, day.toordinal(), 2])
    for text in malformed:
        lines.insert(int(rng.integers(0, len(lines) + 1)), text.encode())
    header = ",".join(TRANSACTIONS.columns).encode()
    progress("write")
    for table in SOURCES:
        lake.delete_dir_contents(day_path("landing", table, day))
    files = []
    n_files = max(1, math.ceil(len(lines) / ROWS_PER_FILE))
    for i in range(n_files):
        chunk = lines[i * ROWS_PER_FILE : (i + 1) * ROWS_PER_FILE]
        relative = f"{day_path('landing', 'transactions', day)}/part-{i:05d}.csv"
        data = b"\n".join([header, *chunk]) + b"\n"
        lake.write_bytes(relative, data)
        files.append({"path": relative, "rows": len(chunk), "bytes": len(data)})
    manifest = {
        "day": day.isoformat(),
        "seed": seed,
        "tables": {
            "transactions": {
                "files": files,
                "rows": len(lines),
                "defects": defects,
                "expected": expected_counts(defects, len(clean)),
            }
        },
        "fraud": simulated.fraud,
    }
    progress("masters")
    for name, frame in day_sources(pop, day, clean).items():
        manifest["tables"][name] = _land(lake, name, day, frame)
    lake.write_bytes(manifest_path(day), json.dumps(manifest, indent=2).encode())
    return DayResult(day, manifest, simulated.closing)


def _land(lake: Lake, name: str, day: date, frame: pd.DataFrame) -> dict:
    """Write one clean source file for the day; its manifest entry."""
    spec = SOURCES[name]
    relative = f"{day_path('landing', name, day)}/part-00000.{spec.file_format}"
    frame = frame[list(spec.columns)]
    if spec.file_format == "csv":
        data = frame.to_csv(index=False, lineterminator="\n").encode()
    else:
        data = frame.to_json(orient="records", lines=True, force_ascii=False).encode()
    lake.write_bytes(relative, data)
    return {
        "files": [{"path": relative, "rows": len(frame), "bytes": len(data)}],
        "rows": len(frame),
        "defects": {},
        "expected": {"staged": len(frame), "quarantined": 0, "duplicates_dropped": 0},
    }


def fx_rates_on(seed: int, day: date) -> pd.DataFrame:
    """The day's reference rates (EUR per unit, 6 decimals): the fixed rate moved by noise."""
    rng = np.random.default_rng([seed, day.toordinal(), 5])
    codes = list(ref.CURRENCIES)
    base = np.array([r for _, r in ref.CURRENCIES.values()])
    rate = np.where(np.array(codes) == "EUR", 1.0, base * (1 + rng.normal(0, 0.004, len(codes))))
    return pd.DataFrame(
        {
            "currency": codes,
            "rate_date": day.isoformat(),
            "eur_per_unit": [f"{r:.6f}" for r in rate],
        }
    )


def eur_cents(cents: np.ndarray, rate_text: np.ndarray) -> np.ndarray:
    """Minor units x a 6-decimal rate -> EUR cents, rounded half up (as numeric in SQL/Spark)."""
    micro = np.array([round(float(r) * 1_000_000) for r in rate_text], np.int64)
    return (cents * micro + 500_000) // 1_000_000


def day_sources(pop: Population, day: date, transactions: pa.Table) -> dict[str, pd.DataFrame]:
    """Every source other than transactions, as exported on `day`, consistent with them: the
    masters of the day, the loan book and its settled installments, the branch P&L (fee income
    = the day's posted fees, interest income = the interest of the installments paid), and the
    day's satisfaction surveys."""
    clients, accounts = clients_on(pop, day), accounts_on(pop, day)
    fx = fx_rates_on(pop.seed, day)
    loans = loans_on(pop.loans, day)
    current = loans["client_index"].to_numpy()  # a client's current account has its index
    loans["client_id"] = clients["client_id"].to_numpy()[current]
    loans["account_id"] = accounts["account_id"].to_numpy()[current]
    loans["branch_code"] = accounts["branch_code"].to_numpy()[current]
    payments = payments_on(pop.loans, day)
    products = pd.DataFrame(
        [
            {
                "product_code": code,
                "product_name": name,
                "category": category,
                "interest_rate": f"{rate:.6f}",
                "monthly_fee": f"{fee:.2f}",
            }
            for code, (name, category, rate, fee) in ref.PRODUCTS.items()
        ]
    )
    return {
        "clients": clients,
        "accounts": accounts,
        "products": products,
        "merchants": pop.merchants,
        "fx_rates": fx,
        "loans": loans,
        "loan_payments": payments,
        "branch_pnl": branch_pnl(pop, day, transactions, accounts, fx, payments),
        "surveys": surveys_on(pop, day, clients, accounts),
    }


def branch_pnl(
    pop: Population,
    day: date,
    transactions: pa.Table,
    accounts: pd.DataFrame,
    fx: pd.DataFrame,
    payments: pd.DataFrame,
) -> pd.DataFrame:
    """One line per branch x product, in EUR cents, then as text."""
    branches = sorted(accounts["branch_code"].unique())
    lines = pd.MultiIndex.from_product([branches, list(ref.PRODUCTS)], names=["branch", "product"])
    tx = transactions.select(["account_id", "transaction_type", "status", "amount", "currency"])
    fees = tx.filter(
        pc.and_(pc.equal(tx["transaction_type"], "FEE"), pc.equal(tx["status"], "POSTED"))
    ).to_pandas()
    info = accounts.set_index("account_id").loc[fees["account_id"], ["branch_code", "product_code"]]
    rate = fx.set_index("currency")["eur_per_unit"].loc[fees["currency"]].to_numpy()
    cents = np.round(fees["amount"].astype(float).to_numpy() * 100).astype(np.int64)
    fee = pd.Series(
        eur_cents(cents, rate),
        index=pd.MultiIndex.from_arrays(
            [info["branch_code"].to_numpy(), info["product_code"].to_numpy()]
        ),
    )
    loan_branch = dict(
        zip(pop.loans.loan_id, pop.accounts["branch_code"].to_numpy()[pop.loans.client])
    )
    loan_product = dict(zip(pop.loans.loan_id, pop.loans.product))
    at = pd.MultiIndex.from_arrays(
        [payments["loan_id"].map(loan_branch), payments["loan_id"].map(loan_product)]
    )
    late = pd.Series(payments["_late_fee_cents"].to_numpy(), index=at)
    interest = pd.Series(payments["_interest_cents"].to_numpy(), index=at)

    def per_line(values: pd.Series) -> np.ndarray:
        return values.groupby(level=[0, 1]).sum().reindex(lines, fill_value=0).to_numpy(np.int64)

    rng = np.random.default_rng([pop.seed, day.toordinal(), 6])
    n = len(lines)
    other = np.where(rng.random(n) < 0.3, rng.integers(0, 20_000, n), 0)
    cost = rng.integers(5_000, 60_000, n)
    outstanding, dpd = arrears_cents(pop.loans, day)
    doubtful = pd.Series(
        np.where(dpd > 30, outstanding // 3650, 0),  # 1% a year of doubtful loans, per day
        index=pd.MultiIndex.from_arrays(
            [pop.accounts["branch_code"].to_numpy()[pop.loans.client], pop.loans.product]
        ),
    )
    columns = {
        "interest_income": per_line(interest),
        "fee_income": per_line(fee) + per_line(late),
        "other_income": other,
        "operating_cost": cost,
        "provisions": per_line(doubtful),
    }
    frame = pd.DataFrame({k: cents_text(v) for k, v in columns.items()})
    frame.insert(0, "product_code", lines.get_level_values(1))
    frame.insert(0, "branch_code", lines.get_level_values(0))
    frame.insert(0, "line_id", frame["branch_code"] + "-" + frame["product_code"])
    return frame


SURVEY_COMMENTS = (
    "",
    "Quick and friendly service",
    "App keeps logging me out",
    "Advisor did not call back",
    "Fees are too high",
    "Very happy with the new card",
)


def surveys_on(
    pop: Population, day: date, clients: pd.DataFrame, accounts: pd.DataFrame
) -> pd.DataFrame:
    """The day's survey responses: CSAT 1-5 (premium segments a little happier), NPS close to
    2 x CSAT, a complaint flag on most low scores."""
    rng = np.random.default_rng([pop.seed, day.toordinal(), 7])
    n = max(10, len(clients) // 100)
    who = rng.integers(0, len(clients), n)
    premium = clients["segment"].isin(["PREMIUM", "PRIVATE"]).to_numpy()[who]
    csat = np.clip(rng.choice([1, 2, 3, 4, 5], n, p=[0.06, 0.09, 0.2, 0.4, 0.25]) + premium, 1, 5)
    nps = np.clip(csat * 2 + rng.integers(-1, 2, n), 0, 10)
    complaint = (csat <= 2) & (rng.random(n) < 0.7)
    seconds = rng.integers(8 * 3600, 21 * 3600, n)
    ymd = f"{day:%Y%m%d}"
    return pd.DataFrame(
        {
            "survey_id": [f"S{ymd}{i:06d}" for i in range(1, n + 1)],
            "client_id": clients["client_id"].to_numpy()[who],
            "product_code": accounts["product_code"].to_numpy()[who],  # the current account's
            "channel": rng.choice(ref.SURVEY_CHANNELS, n),
            "service": np.where(
                complaint, "COMPLAINT_HANDLING", rng.choice(ref.SURVEY_SERVICES[:4], n)
            ),
            "responded_at": [
                f"{day}T{x // 3600:02d}:{x // 60 % 60:02d}:{x % 60:02d}Z" for x in seconds
            ],
            "csat": csat,
            "nps": nps,
            "complaint": complaint,
            "comment": rng.choice(SURVEY_COMMENTS, n),
        }
    )


def simulate(
    lake: Lake,
    start: date,
    days: int,
    transactions: int,
    seed: int,
    defect_scale: float = 1.0,
    progress: Callable[[str], None] = lambda _: None,
) -> list[DayResult]:
    """Land `days` consecutive days starting at `start`; balances carry over between them."""
    lake.ensure_ready()
    pop = build_population(seed, population_size(transactions))
    opening = pop.opening_cents
    results = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        result = write_day(lake, pop, day, transactions, seed, opening, defect_scale, progress)
        opening = result.closing_cents
        results.append(result)
    return results
