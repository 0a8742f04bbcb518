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

from bank_assets.lib import reference as ref
from bank_assets.lib.iban import french_ibans, make_iban
from bank_assets.lib.lake import Lake, day_path, manifest_path
from bank_assets.lib.sources import ACCOUNTS, CLIENTS, TRANSACTIONS

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
PRODUCTS = {
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
    city_idx = rng.integers(0, len(CITIES), n_clients)
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
            "segment": rng.choice(ref.SEGMENTS, n_clients, p=[0.72, 0.18, 0.04, 0.06]),
            "address_line": [
                f"{n} {STREETS[s]}"
                for n, s in zip(rng.integers(1, 200, n_clients), rng.integers(0, 5, n_clients))
            ],
            "postal_code": [
                f"{CITIES[c][1]}{p:03d}" for c, p in zip(city_idx, rng.integers(0, 999, n_clients))
            ],
            "city": [CITIES[c][0] for c in city_idx],
            "country": "FR",
            "kyc_status": rng.choice(ref.KYC_STATUSES, n_clients, p=[0.9, 0.06, 0.04]),
            "risk_rating": rng.choice(ref.RISK_RATINGS, n_clients, p=[0.7, 0.25, 0.05]),
            "status": "ACTIVE",
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
    overdraft = np.where(
        kinds == "CURRENT", rng.choice([0, 500, 1000, 2000], n_accounts, p=[0.3, 0.4, 0.2, 0.1]), 0
    )
    opened = pd.to_datetime("2012-01-01") + pd.to_timedelta(rng.integers(0, 4500, n_accounts), "D")
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{n:011d}" for n in account_numbers],
            "iban": french_ibans(30001, branch, account_numbers),
            "bic": np.array(BICS)[branch % len(BICS)],
            "client_id": clients["client_id"].to_numpy()[owner],
            "product_code": [
                PRODUCTS[k][int(x)] for k, x in zip(kinds, rng.integers(0, 2, n_accounts))
            ],
            "account_type": kinds,
            "currency": currency,
            "branch_code": [f"B{b:03d}" for b in branch],
            "status": "OPEN",
            "overdraft_limit": overdraft.astype(float),
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
    merchants = pd.DataFrame(
        {
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
        }
    )
    external = np.array(
        [
            make_iban("DE", f"{rng.integers(10**7, 10**8)}{rng.integers(10**9, 10**10)}")
            for _ in range(500)
        ]
    )
    return Population(clients, accounts, opening, card_masked, merchants, external)


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


def simulate_transactions(
    pop: Population, day: date, n: int, seed: int, opening: np.ndarray
) -> tuple[pa.Table, np.ndarray]:
    """The day's clean postings (sorted by time) and each account's closing balance."""
    rng = np.random.default_rng([seed, day.toordinal()])
    acc = pop.accounts
    active = np.flatnonzero(acc["account_type"].to_numpy() != "SAVINGS")
    weights = rng.lognormal(0, 0.8, len(active))
    weights /= weights.sum()

    n_pairs = int(n * INTERNAL_TRANSFER_SHARE / 2)
    n_single = n - 2 * n_pairs
    types = list(TYPE_MIX)
    single_type = rng.choice(
        len(types), n_single, p=np.array(list(TYPE_MIX.values())) / sum(TYPE_MIX.values())
    )
    # Internal transfers move euros between two different EUR accounts.
    eur = acc["currency"].to_numpy() == "EUR"
    eur_active = np.isin(active, np.flatnonzero(eur))
    out_acc = rng.choice(
        active[eur_active], n_pairs, p=weights[eur_active] / weights[eur_active].sum()
    )
    eur_accounts = np.flatnonzero(eur)
    in_pos = rng.integers(0, len(eur_accounts), n_pairs)
    in_acc = eur_accounts[in_pos]
    in_acc = np.where(in_acc == out_acc, eur_accounts[(in_pos + 1) % len(eur_accounts)], in_acc)
    account = np.concatenate([rng.choice(active, n_single, p=weights), out_acc, in_acc])
    type_idx = np.concatenate(
        [
            single_type,
            np.full(n_pairs, types.index("TRANSFER_OUT")),
            np.full(n_pairs, types.index("TRANSFER_IN")),
        ]
    )
    pair = np.concatenate([np.full(n_single, -1), np.arange(n_pairs), np.arange(n_pairs)])

    # Time of day: quiet nights, busy days (UTC seconds since midnight).
    hours = rng.choice(24, n, p=_hour_profile())
    seconds = hours * 3600 + rng.integers(0, 3600, n)
    seconds[n_single + n_pairs :] = seconds[n_single : n_single + n_pairs]  # legs share a time
    account_ccy = pd.Categorical(acc["currency"], categories=list(ref.CURRENCIES)).codes
    minor_of = np.array([m for m, _ in ref.CURRENCIES.values()])
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
    in_rows = slice(n_single + n_pairs, n)
    cents[in_rows] = cents[out_rows]  # both legs move the same amount (same-currency transfer)

    directions = np.array([ref.TRANSACTION_TYPES[t][0] for t in types])[type_idx]
    debit = directions == "DEBIT"
    signed = np.where(debit, -cents, cents)

    # Sort by account and time; chain balances; decline debits that break the overdraft limit.
    order = np.lexsort((np.arange(n), seconds, account))
    account, seconds, signed, debit = account[order], seconds[order], signed[order], debit[order]
    type_idx, pair, cents, minor, currency_idx = (
        type_idx[order],
        pair[order],
        cents[order],
        minor[order],
        currency_idx[order],
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
    type_idx, pair, cents, minor, currency_idx = (
        type_idx[by_time],
        pair[by_time],
        cents[by_time],
        minor[by_time],
        currency_idx[by_time],
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
    abroad = (type_names == "CARD_PAYMENT") & (rng.random(n) < 0.05)
    country = pc.if_else(
        pa.array(abroad),
        pick(FOREIGN_COUNTRIES, rng.integers(0, len(FOREIGN_COUNTRIES), n)),
        "FR",
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
    table = pa.table(
        {
            "transaction_id": numbered(f"TX{ymd}", np.arange(1, n + 1), 8),
            "account_id": pick(acc["account_id"], account),
            "posted_at": posted_at,
            "transaction_type": pick(types, type_idx),
            "channel": pick(ref.CHANNELS, channel_idx),
            "direction": pc.if_else(pa.array(debit), "DEBIT", "CREDIT"),
            "amount": _fmt_minor(cents, minor),
            "currency": pick(list(ref.CURRENCIES), currency_idx),
            "balance_after": _fmt_minor(balance, minor),
            "status": pc.if_else(pa.array(posted), "POSTED", "DECLINED"),
            "merchant_name": merchant_name,
            "mcc": pick(pop.merchants["mcc"], m_idx, merchant_rows),
            "counterparty_iban": counterparty,
            "transfer_id": transfer_id,
            "card_masked": pick(pop.card_masked, account, card_rows),
            "country": country,
            "description": description,
        }
    )
    return table, closing


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
        return pa.array([f"TX{ymd}9{next(extra_seq):07d}" for _ in range(len(part))])

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
                [f"A{99_000_000_000 + known_accounts + i:011d}" for i in range(len(p))]
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
    clean, closing = simulate_transactions(pop, day, transactions, seed, opening)
    landed, malformed, defects = plant_defects(clean, day, seed, defect_scale, len(pop.accounts))
    lines = to_csv_lines(landed)
    rng = np.random.default_rng([seed, day.toordinal(), 2])
    for text in malformed:
        lines.insert(int(rng.integers(0, len(lines) + 1)), text.encode())
    header = ",".join(TRANSACTIONS.columns).encode()
    progress("write")
    for table in ("transactions", "clients", "accounts"):
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
    }
    for spec, frame in ((CLIENTS, pop.clients), (ACCOUNTS, pop.accounts)):
        relative = f"{day_path('landing', spec.name, day)}/part-00000.jsonl"
        data = (
            frame[list(spec.columns)]
            .to_json(orient="records", lines=True, force_ascii=False)
            .encode()
        )
        lake.write_bytes(relative, data)
        manifest["tables"][spec.name] = {
            "files": [{"path": relative, "rows": len(frame), "bytes": len(data)}],
            "rows": len(frame),
            "defects": {},
            "expected": {"staged": len(frame), "quarantined": 0, "duplicates_dropped": 0},
        }
    lake.write_bytes(manifest_path(day), json.dumps(manifest, indent=2).encode())
    return DayResult(day, manifest, closing)


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
