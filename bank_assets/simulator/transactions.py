"""A day's postings in the core banking system: who pays what, when and how much, the balance
after each posting (a debit that would break the overdraft limit is declined), and planted fraud.

Rows are built as parallel numpy arrays (`Postings`), settled per account, then exported in time
order as Arrow text columns. Internal transfers are two legs (TRANSFER_OUT and TRANSFER_IN)
sharing a transfer id, the same amount and the same instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bank_assets.model import reference as ref
from bank_assets.simulator.population import Population, accounts_on

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

FOREIGN_COUNTRIES = ("DE", "ES", "IT", "BE", "NL", "GB", "US", "CH")
FAR_COUNTRIES = ("BR", "NG", "TH", "PH", "MX")  # where planted "new country" fraud happens

TYPES = list(TYPE_MIX)
_TYPE_P = np.array(list(TYPE_MIX.values())) / sum(TYPE_MIX.values())
_DIRECTION = np.array([ref.TRANSACTION_TYPES[t][0] for t in TYPES])
_MEDIAN = np.array([AMOUNT_EUR[t][0] for t in TYPES])
_SIGMA = np.array([AMOUNT_EUR[t][1] for t in TYPES])
_OUT, _IN = TYPES.index("TRANSFER_OUT"), TYPES.index("TRANSFER_IN")
CURRENCY_CODES = list(ref.CURRENCIES)
MINOR_UNITS = np.array([units for units, _ in ref.CURRENCIES.values()])
_EUR_RATES = np.array([rate for _, rate in ref.CURRENCIES.values()])
MERCHANT_TYPES = ("CARD_PAYMENT", "ONLINE_PURCHASE", "MOBILE_PAYMENT", "REFUND", "CHARGEBACK")
CARD_TYPES = ("CARD_PAYMENT", "ONLINE_PURCHASE", "ATM_WITHDRAWAL", "REFUND", "CHARGEBACK")


@dataclass
class Postings:
    """A day's postings as parallel arrays, one element per posting."""

    account: np.ndarray  # row in the day's account master
    type_idx: np.ndarray  # index in TYPES
    pair: np.ndarray  # internal transfer number (both legs share it), -1 if not a leg
    kind: np.ndarray  # planted fraud: 1 + index in ref.FRAUD_TYPES, 0 if none
    seconds: np.ndarray  # time of day, UTC seconds since midnight
    cents: np.ndarray  # amount in the currency's minor units
    currency_idx: np.ndarray  # index in CURRENCY_CODES (the account's currency)
    posted: np.ndarray | None = None  # False where declined; set by _settle
    balance: np.ndarray | None = None  # balance after the posting, minor units; set by _settle

    @property
    def debit(self) -> np.ndarray:
        return _DIRECTION[self.type_idx] == "DEBIT"

    @property
    def signed(self) -> np.ndarray:
        return np.where(self.debit, -self.cents, self.cents)

    @property
    def minor(self) -> np.ndarray:
        return MINOR_UNITS[self.currency_idx]

    def take(self, order: np.ndarray) -> Postings:
        """The postings in `order`."""
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        return Postings(**{k: None if v is None else v[order] for k, v in arrays.items()})


@dataclass
class DayTransactions:
    table: pa.Table  # the clean postings, in time order
    closing: np.ndarray = field(repr=False)  # balance per account after the day, minor units
    fraud: dict[str, str] = field(repr=False)  # planted fraud: transaction id -> fraud type


def simulate_transactions(
    pop: Population, day: date, n: int, seed: int, opening: np.ndarray
) -> DayTransactions:
    """The day's clean postings (sorted by time), each account's closing balance, and the
    planted fraud. Blocked accounts do not transact; overdraft limits are the day's."""
    rng = np.random.default_rng([seed, day.toordinal()])
    acc = accounts_on(pop, day)
    drawn = _draw_postings(rng, acc, n)
    settled, closing = _settle(
        drawn.take(np.lexsort((np.arange(n), drawn.seconds, drawn.account))), acc, opening
    )
    postings = settled.take(np.lexsort((settled.account, settled.seconds)))  # ids follow time
    table = _export(rng, pop, acc, day, postings)
    planted = np.flatnonzero(postings.kind > 0)
    ids = pc.take(table["transaction_id"], pa.array(planted)).to_pylist()
    kinds = np.array(ref.FRAUD_TYPES)[postings.kind[planted] - 1].tolist()
    return DayTransactions(table, closing, dict(zip(ids, kinds)))


# ---- drawing: who, what, when, how much ------------------------------------------------------


def _draw_postings(rng: np.random.Generator, acc: pd.DataFrame, n: int) -> Postings:
    """The day's postings before any balance check. Rows: single postings, the debit legs, the
    credit legs of internal transfers, then the planted fraud. Open current and card accounts
    transact, each with an activity weight."""
    usable = (acc["account_type"].to_numpy() != "SAVINGS") & (acc["status"].to_numpy() == "OPEN")
    eur = acc["currency"].to_numpy() == "EUR"
    active = np.flatnonzero(usable)
    weights = rng.lognormal(0, 0.8, len(active))
    weights /= weights.sum()
    fraud = _plant_fraud(rng, np.flatnonzero(usable & eur), n, TYPES)
    m = n - len(fraud["account"])  # rows before the fraud rows
    n_pairs = int(m * INTERNAL_TRANSFER_SHARE / 2)
    outs, ins = slice(m - 2 * n_pairs, m - n_pairs), slice(m - n_pairs, m)
    account, type_idx, pair = _singles_and_transfers(rng, active, weights, eur, m, n_pairs)
    seconds = _times_of_day(rng, n)
    seconds[ins] = seconds[outs]  # both legs of a transfer at the same instant
    seconds[m:] = np.minimum(fraud["seconds"], 86_399)
    account = np.concatenate([account, fraud["account"]])
    type_idx = np.concatenate([type_idx, fraud["type"]])
    currency_idx = _account_currency(acc)[account]
    cents = _amounts(rng, type_idx, currency_idx)
    cents[ins] = cents[outs]  # both legs move the same amount (same-currency transfer)
    cents[m:] = fraud["cents"]
    pair = np.concatenate([pair, np.full(n - m, -1)])
    kind = np.concatenate([np.zeros(m, np.int64), fraud["kind"]])
    return Postings(account, type_idx, pair, kind, seconds, cents, currency_idx)


def _singles_and_transfers(
    rng: np.random.Generator,
    active: np.ndarray,
    weights: np.ndarray,
    eur: np.ndarray,
    m: int,
    n_pairs: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Account, type and transfer number of the `m` non-fraud rows: single postings by activity
    weight and the type mix, then `n_pairs` internal transfers, which move euros between two
    different EUR accounts (debit legs, then credit legs)."""
    n_single = m - 2 * n_pairs
    single_type = rng.choice(len(TYPES), n_single, p=_TYPE_P)
    eur_active = np.isin(active, np.flatnonzero(eur))
    out_acc = rng.choice(
        active[eur_active], n_pairs, p=weights[eur_active] / weights[eur_active].sum()
    )
    eur_accounts = np.flatnonzero(eur)
    in_pos = rng.integers(0, len(eur_accounts), n_pairs)
    in_acc = eur_accounts[in_pos]
    in_acc = np.where(in_acc == out_acc, eur_accounts[(in_pos + 1) % len(eur_accounts)], in_acc)
    account = np.concatenate([rng.choice(active, n_single, p=weights), out_acc, in_acc])
    type_idx = np.concatenate([single_type, np.full(n_pairs, _OUT), np.full(n_pairs, _IN)])
    pair = np.concatenate([np.full(n_single, -1), np.arange(n_pairs), np.arange(n_pairs)])
    return account, type_idx, pair


def _times_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Quiet nights, busy days (UTC seconds since midnight)."""
    hours = rng.choice(24, n, p=_hour_profile())
    return hours * 3600 + rng.integers(0, 3600, n)


def _account_currency(acc: pd.DataFrame) -> np.ndarray:
    """Per account, its currency's index in CURRENCY_CODES."""
    return pd.Categorical(acc["currency"], categories=CURRENCY_CODES).codes


def _amounts(
    rng: np.random.Generator, type_idx: np.ndarray, currency_idx: np.ndarray
) -> np.ndarray:
    """Log-normal amounts around each type's median in EUR, in the account's currency and its
    minor units; cash withdrawals in multiples of 20."""
    minor = MINOR_UNITS[currency_idx]
    major = np.exp(rng.normal(np.log(_MEDIAN[type_idx]), _SIGMA[type_idx]))
    major /= _EUR_RATES[currency_idx]
    atm = type_idx == TYPES.index("ATM_WITHDRAWAL")
    major[atm] = np.maximum(20, np.round(major[atm] / 20) * 20)
    return np.maximum(1, np.round(major * 10.0**minor)).astype(np.int64)


# ---- settling: balances and declines ---------------------------------------------------------


def _settle(p: Postings, acc: pd.DataFrame, opening: np.ndarray) -> tuple[Postings, np.ndarray]:
    """Chain balances per account (`p` sorted by account, then time) from the opening balances,
    declining what breaks the overdraft limit: the postings with status and balance, and each
    account's closing balance."""
    n = len(p.account)
    first = np.ones(n, bool)
    first[1:] = p.account[1:] != p.account[:-1]
    limit_of = acc["overdraft_limit"].to_numpy() * 10.0 ** MINOR_UNITS[_account_currency(acc)]
    start = opening[p.account]
    posted = _posted(p, first, start, limit_of[p.account])
    balance = start + _group_cumsum(np.where(posted, p.signed, 0), first)
    closing = opening.copy()
    last = np.append(np.flatnonzero(first)[1:] - 1, n - 1) if n else np.array([], int)
    closing[p.account[last]] = balance[last]
    return replace(p, posted=posted, balance=balance), closing


def _posted(p: Postings, first: np.ndarray, start: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Which postings go through: a debit that would take its account below -limit is declined,
    and so is the credit leg of a declined internal transfer (declining one can free funds for a
    later debit, hence the few rounds)."""
    signed, debit = p.signed, p.debit
    is_out = p.type_idx == _OUT
    posted = np.ones(len(signed), bool)
    for _ in range(25):
        balance = start + _group_cumsum(np.where(posted, signed, 0), first)
        violation = posted & debit & (balance < -limit)
        declined_pairs = np.unique(p.pair[is_out & (p.pair >= 0) & ~(posted & ~violation)])
        follow = posted & (p.pair >= 0) & ~is_out & np.isin(p.pair, declined_pairs)
        if not violation.any() and not follow.any():
            break
        posted &= ~(violation | follow)
    return posted


# ---- export: the text columns of the core banking file ---------------------------------------


def _export(
    rng: np.random.Generator, pop: Population, acc: pd.DataFrame, day: date, p: Postings
) -> pa.Table:
    """The postings (in time order) as the core banking system exports them; ids follow time."""
    names = np.array(TYPES)[p.type_idx]
    channel = _pick(ref.CHANNELS, _channels(rng, p.type_idx))
    shop = np.isin(names, MERCHANT_TYPES)
    merchant = _merchants(rng, pop, shop)
    counterparty, transfer_id = _transfers(rng, pop, acc, day, p, names)
    country = _countries(rng, len(acc), p, names)
    posted_at = _posted_at(rng, day, p.seconds)
    type_text = _pick([t.replace("_", " ") for t in TYPES], p.type_idx)
    description = pc.binary_join_element_wise(type_text, merchant["merchant_name"], " ")
    return pa.table(
        {
            "transaction_id": _numbered(f"TX{day:%Y%m%d}", np.arange(1, len(names) + 1), 8),
            "account_id": _pick(acc["account_id"], p.account),
            "posted_at": posted_at,
            "transaction_type": _pick(TYPES, p.type_idx),
            "channel": channel,
            "direction": pc.if_else(pa.array(p.debit), "DEBIT", "CREDIT"),
            "amount": _fmt_minor(p.cents, p.minor),
            "currency": _pick(CURRENCY_CODES, p.currency_idx),
            "balance_after": _fmt_minor(p.balance, p.minor),
            "status": pc.if_else(pa.array(p.posted), "POSTED", "DECLINED"),
            **merchant,
            "counterparty_iban": counterparty,
            "transfer_id": transfer_id,
            "card_masked": _pick(pop.card_masked, p.account, np.isin(names, CARD_TYPES)),
            "country": country,
            "description": pc.if_else(pa.array(shop), description, type_text),
        }
    )


def _channels(rng: np.random.Generator, type_idx: np.ndarray) -> np.ndarray:
    """A channel consistent with the type: each type draws from its own allowed channels."""
    channel_idx = np.zeros(len(type_idx), dtype=np.int64)
    for t_i, t in enumerate(TYPES):
        rows = type_idx == t_i
        options = [ref.CHANNELS.index(c) for c in ref.TRANSACTION_TYPES[t][1]]
        channel_idx[rows] = np.array(options)[rng.integers(0, len(options), rows.sum())]
    return channel_idx


def _merchants(rng: np.random.Generator, pop: Population, shop: np.ndarray) -> dict[str, pa.Array]:
    """Merchant id, name and MCC of the postings paid to a merchant (`shop`), '' elsewhere."""
    merchant = rng.integers(0, len(pop.merchants), len(shop))
    columns = ("merchant_id", "merchant_name", "mcc")
    return {c: _pick(pop.merchants[c], merchant, shop) for c in columns}


def _transfers(
    rng: np.random.Generator,
    pop: Population,
    acc: pd.DataFrame,
    day: date,
    p: Postings,
    names: np.ndarray,
) -> tuple[pa.Array, pa.Array]:
    """Counterparty IBAN and transfer id: the legs of an internal transfer share a TRF id and
    each names the other leg's account; a transfer with another bank has a TRX id and an
    external IBAN."""
    n = len(names)
    internal = pa.array(p.pair >= 0)
    transfer = np.isin(names, ["TRANSFER_IN", "TRANSFER_OUT"])
    other = _other_leg_account(p, names == "TRANSFER_OUT")
    external = _pick(pop.external_ibans, rng.integers(0, len(pop.external_ibans), n), transfer)
    counterparty = pc.if_else(internal, _pick(acc["iban"], np.maximum(other, 0)), external)
    ymd = f"{day:%Y%m%d}"
    transfer_id = pc.if_else(
        internal,
        _numbered(f"TRF{ymd}", np.maximum(p.pair, 0), 7),
        pc.if_else(pa.array(transfer), _numbered(f"TRX{ymd}", np.arange(n), 8), ""),
    )
    return counterparty, transfer_id


def _other_leg_account(p: Postings, is_out: np.ndarray) -> np.ndarray:
    """Per internal transfer leg, the account of the other leg (-1 for other postings)."""
    other = np.full(len(p.pair), -1)
    for leg_out in (True, False):
        rows = np.flatnonzero((p.pair >= 0) & (is_out == leg_out))
        other_rows = np.flatnonzero((p.pair >= 0) & (is_out != leg_out))
        pos = np.argsort(p.pair[other_rows])
        found = np.searchsorted(p.pair[other_rows][pos], p.pair[rows])
        other[rows] = p.account[other_rows[pos[found]]]
    return other


def _countries(
    rng: np.random.Generator, n_accounts: int, p: Postings, names: np.ndarray
) -> pa.Array:
    """Where each posting happens. About 2% of accounts travel on a given day: most of their
    card payments and cash withdrawals happen in one foreign country. Planted new-country fraud
    is in a far country."""
    n = len(names)
    travel = rng.integers(0, len(FOREIGN_COUNTRIES), n_accounts)
    travelling = (rng.random(n_accounts) < 0.02)[p.account]
    abroad = (
        np.isin(names, ["CARD_PAYMENT", "ATM_WITHDRAWAL"])
        & travelling
        & (rng.random(n) < 0.7)
        & (p.kind == 0)
    )
    new_country = p.kind == ref.FRAUD_TYPES.index("new_country") + 1
    far = _pick(FAR_COUNTRIES, rng.integers(0, len(FAR_COUNTRIES), n))
    return pc.if_else(
        pa.array(abroad),
        _pick(FOREIGN_COUNTRIES, travel[p.account]),
        pc.if_else(pa.array(new_country), far, "FR"),
    )


def _posted_at(rng: np.random.Generator, day: date, seconds: np.ndarray) -> pa.Array:
    """ISO 8601 times: most in UTC ("Z"), a tenth with the Paris winter offset (same instant)."""
    local = seconds + 3600
    next_day = local >= 86_400
    return pc.if_else(
        pa.array(rng.random(len(seconds)) < 0.1),
        pc.binary_join_element_wise(
            pc.if_else(pa.array(next_day), f"{day + timedelta(days=1)}T", f"{day}T"),
            _clock(np.where(next_day, local - 86_400, local)),
            "+01:00",
            "",
        ),
        pc.binary_join_element_wise(f"{day}T", _clock(seconds), "Z", ""),
    )


def _pick(values, index: np.ndarray, where: np.ndarray | None = None) -> pa.Array:
    """values[index] as an Arrow string array ('' where `where` is False)."""
    taken = pc.take(pa.array(np.asarray(values, dtype=object), pa.string()), pa.array(index))
    return taken if where is None else pc.if_else(pa.array(where), taken, "")


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


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
