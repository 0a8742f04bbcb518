"""A day of the source systems: the sources other than transactions (masters, products, fx
rates, loans, branch P&L, surveys), consistent with the day's postings, and writing the day's
landing files with the manifest that completes the day."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bank_assets.io.lake import Lake, day_path, manifest_path
from bank_assets.model import reference as ref
from bank_assets.model.sources import SOURCES, TRANSACTIONS
from bank_assets.simulator.defects import expected_counts, plant_defects
from bank_assets.simulator.loans import arrears_cents, cents_text, loans_on, payments_on
from bank_assets.simulator.population import (
    Population,
    accounts_on,
    build_population,
    clients_on,
    population_size,
)
from bank_assets.simulator.transactions import simulate_transactions

ROWS_PER_FILE = 250_000


@dataclass
class DayResult:
    day: date
    manifest: dict
    closing_cents: np.ndarray = field(repr=False)


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
    lines = _lines_with_malformed(landed, malformed, day, seed)
    progress("write")
    for table in SOURCES:
        lake.delete_dir_contents(day_path("landing", table, day))
    entry = _land_transactions(lake, day, lines)
    entry |= {"defects": defects, "expected": expected_counts(defects, len(clean))}
    manifest = {
        "day": day.isoformat(),
        "seed": seed,
        "tables": {"transactions": entry},
        "fraud": simulated.fraud,
    }
    progress("masters")
    for name, frame in day_sources(pop, day, clean).items():
        manifest["tables"][name] = _land(lake, name, day, frame)
    lake.write_bytes(manifest_path(day), json.dumps(manifest, indent=2).encode())
    return DayResult(day, manifest, simulated.closing)


def _lines_with_malformed(
    landed: pa.Table, malformed: list[str], day: date, seed: int
) -> list[bytes]:
    """The transactions file's lines (no header), the malformed ones at random places."""
    lines = to_csv_lines(landed)
    rng = np.random.default_rng([seed, day.toordinal(), 2])
    for text in malformed:
        lines.insert(int(rng.integers(0, len(lines) + 1)), text.encode())
    return lines


def _land_transactions(lake: Lake, day: date, lines: list[bytes]) -> dict:
    """Write the transactions file in parts of ROWS_PER_FILE lines; its manifest entry."""
    header = ",".join(TRANSACTIONS.columns).encode()
    files = []
    for i in range(max(1, math.ceil(len(lines) / ROWS_PER_FILE))):
        chunk = lines[i * ROWS_PER_FILE : (i + 1) * ROWS_PER_FILE]
        relative = f"{day_path('landing', 'transactions', day)}/part-{i:05d}.csv"
        data = b"\n".join([header, *chunk]) + b"\n"
        lake.write_bytes(relative, data)
        files.append({"path": relative, "rows": len(chunk), "bytes": len(data)})
    return {"files": files, "rows": len(lines)}


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
    """One line per branch x product, in EUR cents, then as text. Fee income is the day's posted
    fees and late fees, interest income the interest of the installments paid, provisions 1% a
    year of the loans more than 30 days past due; other income and costs are noise."""
    branches = sorted(accounts["branch_code"].unique())
    lines = pd.MultiIndex.from_product([branches, list(ref.PRODUCTS)], names=["branch", "product"])

    def per_line(values: pd.Series) -> np.ndarray:
        return values.groupby(level=[0, 1]).sum().reindex(lines, fill_value=0).to_numpy(np.int64)

    late, interest = _installment_income(pop, payments)
    rng = np.random.default_rng([pop.seed, day.toordinal(), 6])
    n = len(lines)
    other = np.where(rng.random(n) < 0.3, rng.integers(0, 20_000, n), 0)
    columns = {
        "interest_income": per_line(interest),
        "fee_income": per_line(_posted_fees(transactions, accounts, fx)) + per_line(late),
        "other_income": other,
        "operating_cost": rng.integers(5_000, 60_000, n),
        "provisions": per_line(_provisions(pop, day)),
    }
    frame = pd.DataFrame({k: cents_text(v) for k, v in columns.items()})
    frame.insert(0, "product_code", lines.get_level_values(1))
    frame.insert(0, "branch_code", lines.get_level_values(0))
    frame.insert(0, "line_id", frame["branch_code"] + "-" + frame["product_code"])
    return frame


def _posted_fees(transactions: pa.Table, accounts: pd.DataFrame, fx: pd.DataFrame) -> pd.Series:
    """EUR cents of each posted fee, indexed by its account's (branch, product)."""
    tx = transactions.select(["account_id", "transaction_type", "status", "amount", "currency"])
    fees = tx.filter(
        pc.and_(pc.equal(tx["transaction_type"], "FEE"), pc.equal(tx["status"], "POSTED"))
    ).to_pandas()
    info = accounts.set_index("account_id").loc[fees["account_id"], ["branch_code", "product_code"]]
    rate = fx.set_index("currency")["eur_per_unit"].loc[fees["currency"]].to_numpy()
    cents = np.round(fees["amount"].astype(float).to_numpy() * 100).astype(np.int64)
    at = pd.MultiIndex.from_arrays(
        [info["branch_code"].to_numpy(), info["product_code"].to_numpy()]
    )
    return pd.Series(eur_cents(cents, rate), index=at)


def _installment_income(pop: Population, payments: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Late fees and interest of the day's settled installments (cents), indexed by the loan's
    (branch, product)."""
    branch = pop.accounts["branch_code"].to_numpy()[pop.loans.client]
    loan_branch = dict(zip(pop.loans.loan_id, branch))
    loan_product = dict(zip(pop.loans.loan_id, pop.loans.product))
    at = pd.MultiIndex.from_arrays(
        [payments["loan_id"].map(loan_branch), payments["loan_id"].map(loan_product)]
    )
    late = pd.Series(payments["_late_fee_cents"].to_numpy(), index=at)
    return late, pd.Series(payments["_interest_cents"].to_numpy(), index=at)


def _provisions(pop: Population, day: date) -> pd.Series:
    """A day's provision per loan (cents): 1% a year of a loan more than 30 days past due."""
    outstanding, dpd = arrears_cents(pop.loans, day)
    return pd.Series(
        np.where(dpd > 30, outstanding // 3650, 0),
        index=pd.MultiIndex.from_arrays(
            [pop.accounts["branch_code"].to_numpy()[pop.loans.client], pop.loans.product]
        ),
    )


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
