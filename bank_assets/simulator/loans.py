"""The simulated loan book: applications, decisions, disbursements, amortization schedules and
how each installment is settled. Pure numpy, deterministic for a seed, valid for any day.

Every loan's whole life is drawn once (from the seed), so the state on any day - status,
outstanding principal, days past due - and the installments settled on that day follow without
replaying earlier days. Amounts are in cents (integers): an installment's amount due is exactly
principal + interest + fee, and the principal parts of a loan add up to its principal.

Settlement: an installment is PAID on its due date, LATE (paid 1-25 days after, with a late fee),
PARTIAL (half paid on the due date, the rest stays in arrears) or MISSED (nothing paid; recorded
30 days after the due date). The day a settlement is recorded is the day the row lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

LOAN_PRODUCTS = {  # product -> (share, principal range EUR, term range months, base rate)
    "LOAN-PERS": (0.6, (2_000, 30_000), (12, 60), 0.059),
    "LOAN-AUTO": (0.25, (8_000, 45_000), (24, 72), 0.045),
    "LOAN-MORT": (0.15, (80_000, 400_000), (120, 240), 0.034),
}
FIRST_APPLICATION = date(2022, 1, 1)
APPLICATION_SPAN_DAYS = 6 * 365
LATE_FEE_CENTS = 1_500
MORTGAGE_INSURANCE_CENTS = 1_200
MISSED_AFTER_DAYS = 30
NEVER = np.iinfo(np.int64).max


@dataclass
class LoanBook:
    loan_id: np.ndarray
    client: np.ndarray  # client index (the loan is disbursed to the client's current account)
    product: np.ndarray
    principal: np.ndarray  # cents
    rate: np.ndarray  # annual
    term: np.ndarray  # months
    applied: np.ndarray  # ordinal days
    decided: np.ndarray
    approved: np.ndarray  # bool
    disbursed: np.ndarray  # ordinal, NEVER if not approved
    installment: np.ndarray  # cents (the regular one)
    # per loan x installment (columns beyond a loan's term are unused)
    due: np.ndarray
    principal_part: np.ndarray
    interest_part: np.ndarray
    fee_part: np.ndarray
    status: np.ndarray  # 0 PAID, 1 LATE, 2 PARTIAL, 3 MISSED
    settled: np.ndarray  # ordinal day the settlement is recorded
    paid_off: np.ndarray  # ordinal day the installment is fully paid, NEVER if it never is

    @property
    def valid(self) -> np.ndarray:
        """Installments that exist: within the term of an approved loan."""
        k = np.arange(self.due.shape[1])[None, :]
        return (k < self.term[:, None]) & self.approved[:, None]


INSTALLMENT_STATUS = np.array(["PAID", "LATE", "PARTIAL", "MISSED"])


def build_loan_book(seed: int, n_clients: int) -> LoanBook:
    rng = np.random.default_rng([seed, 3])
    n = max(60, n_clients // 4)
    names = list(LOAN_PRODUCTS)
    product = rng.choice(len(names), n, p=[v[0] for v in LOAN_PRODUCTS.values()])
    lo = np.array([LOAN_PRODUCTS[p][1][0] for p in names])[product]
    hi = np.array([LOAN_PRODUCTS[p][1][1] for p in names])[product]
    principal = (np.round(rng.uniform(lo, hi) / 100) * 100 * 100).astype(np.int64)
    t_lo = np.array([LOAN_PRODUCTS[p][2][0] for p in names])[product]
    t_hi = np.array([LOAN_PRODUCTS[p][2][1] for p in names])[product]
    term = (rng.integers(t_lo // 12, t_hi // 12 + 1) * 12).astype(np.int64)
    rate = np.round(
        np.array([LOAN_PRODUCTS[p][3] for p in names])[product] + rng.uniform(-0.01, 0.02, n), 4
    )
    applied = FIRST_APPLICATION.toordinal() + rng.integers(0, APPLICATION_SPAN_DAYS, n)
    decided = applied + rng.integers(1, 6, n)
    approved = rng.random(n) < 0.85
    disbursed = np.where(approved, decided + rng.integers(2, 8, n), NEVER)

    monthly = rate / 12
    installment = np.round(principal * monthly / (1 - (1 + monthly) ** -term)).astype(np.int64)
    width = int(term.max())
    k = np.arange(width)
    due = np.where(approved[:, None], disbursed[:, None] + 30 * (k[None, :] + 1), NEVER)
    interest = np.zeros((n, width), np.int64)
    principal_part = np.zeros((n, width), np.int64)
    outstanding = principal.copy()
    for j in range(width):
        active = j < term
        last = j == term - 1
        i_j = np.round(outstanding * monthly).astype(np.int64)
        p_j = np.where(last, outstanding, np.minimum(installment - i_j, outstanding))
        interest[:, j] = np.where(active, i_j, 0)
        principal_part[:, j] = np.where(active, p_j, 0)
        outstanding = outstanding - np.where(active, p_j, 0)
    is_mortgage = product == names.index("LOAN-MORT")
    fee = np.where(is_mortgage[:, None] & (k[None, :] < term[:, None]), MORTGAGE_INSURANCE_CENTS, 0)

    behaviour = rng.choice(4, n, p=[0.8, 0.12, 0.04, 0.04])  # good, late, partial, defaulter
    u = rng.random((n, width))
    status = np.zeros((n, width), np.int64)
    status[(behaviour[:, None] == 1) & (u < 0.3)] = 1
    status[(behaviour[:, None] == 2) & (u < 0.25)] = 2
    default_from = rng.integers(1, np.maximum(2, term))
    status[(behaviour[:, None] == 3) & (k[None, :] >= default_from[:, None])] = 3
    delay = rng.integers(1, 26, (n, width))
    settled = np.where(
        status == 1, due + delay, np.where(status == 3, due + MISSED_AFTER_DAYS, due)
    )
    settled = np.where(approved[:, None], settled, NEVER)
    paid_off = np.where(status <= 1, settled, NEVER)
    return LoanBook(
        loan_id=np.array([f"L{i:08d}" for i in range(1, n + 1)]),
        client=rng.integers(0, n_clients, n),
        product=np.array(names)[product],
        principal=principal,
        rate=rate,
        term=term,
        applied=applied,
        decided=decided,
        approved=approved,
        disbursed=disbursed,
        installment=installment,
        due=due,
        principal_part=principal_part,
        interest_part=interest,
        fee_part=fee,
        status=status,
        settled=settled,
        paid_off=paid_off,
    )


def _day(ordinal: np.ndarray) -> list[str | None]:
    return [None if o >= NEVER else date.fromordinal(int(o)).isoformat() for o in ordinal]


def cents_text(cents: np.ndarray) -> list[str]:
    return [f"{c // 100}.{c % 100:02d}" for c in np.asarray(cents, np.int64)]


def loans_on(book: LoanBook, day: date) -> pd.DataFrame:
    """The loan book as exported on `day`: every application made so far, with its state."""
    d = day.toordinal()
    rows = np.flatnonzero(book.applied <= d)
    outstanding, dpd = (a[rows] for a in arrears_cents(book, day))
    disbursed = book.disbursed[rows] <= d
    decided = book.decided[rows] <= d
    approved = book.approved[rows]
    status = np.select(
        [
            ~decided,
            ~approved,
            ~disbursed,
            dpd > 90,
            outstanding == 0,
        ],
        ["APPLIED", "REJECTED", "APPROVED", "DEFAULTED", "CLOSED"],
        "ACTIVE",
    )
    return pd.DataFrame(
        {
            "loan_id": book.loan_id[rows],
            "client_index": book.client[rows],
            "product_code": book.product[rows],
            "applied_on": _day(book.applied[rows]),
            "decision": np.where(~decided, "PENDING", np.where(approved, "APPROVED", "REJECTED")),
            "decided_on": _day(np.where(decided, book.decided[rows], NEVER)),
            "disbursed_on": _day(np.where(disbursed, book.disbursed[rows], NEVER)),
            "principal": cents_text(book.principal[rows]),
            "currency": "EUR",
            "annual_rate": [f"{r:.4f}" for r in book.rate[rows]],
            "term_months": book.term[rows].astype(str),
            "installment": cents_text(book.installment[rows]),
            "outstanding_principal": cents_text(outstanding),
            "days_past_due": dpd.astype(str),
            "status": status,
        }
    )


def payments_on(book: LoanBook, day: date) -> pd.DataFrame:
    """Installments whose settlement is recorded on `day` (one row each)."""
    loan, k = np.nonzero((book.settled == day.toordinal()) & book.valid)
    status = book.status[loan, k]
    principal, interest, fee = (
        book.principal_part[loan, k],
        book.interest_part[loan, k],
        book.fee_part[loan, k],
    )
    due = principal + interest + fee
    late_fee = np.where(status == 1, LATE_FEE_CENTS, 0)
    paid = np.select([status <= 1, status == 2], [due + late_fee, due // 2], 0)
    rng = np.random.default_rng([day.toordinal(), 4])
    seconds = rng.integers(6 * 3600, 20 * 3600, len(loan))
    paid_at = [
        (f"{day}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" if st != 3 else "")
        for s, st in zip(seconds, status)
    ]
    return pd.DataFrame(
        {
            "installment_id": [f"{book.loan_id[i]}-{j + 1:03d}" for i, j in zip(loan, k)],
            "loan_id": book.loan_id[loan],
            "installment_no": (k + 1).astype(str),
            "due_date": _day(book.due[loan, k]),
            "amount_due": cents_text(due),
            "principal_part": cents_text(principal),
            "interest_part": cents_text(interest),
            "fee_part": cents_text(fee),
            "paid_amount": cents_text(paid),
            "late_fee": cents_text(late_fee),
            "paid_at": paid_at,
            "status": INSTALLMENT_STATUS[status],
            # for the branch P&L (not landed)
            "_loan": loan,
            "_interest_cents": np.where(status == 3, 0, np.minimum(paid, interest)),
            "_late_fee_cents": late_fee,
        }
    )


def arrears_cents(book: LoanBook, day: date) -> tuple[np.ndarray, np.ndarray]:
    """Per loan: outstanding principal (cents) and days past due on `day`."""
    d = day.toordinal()
    valid = book.valid
    paid = (book.paid_off <= d) & valid
    arrears = (book.due <= d) & ~paid & valid
    dpd = np.where(arrears, d - np.minimum(book.due, d), 0).max(axis=1, initial=0)
    outstanding = np.where(
        book.disbursed <= d, book.principal - (book.principal_part * paid).sum(axis=1), 0
    )
    return outstanding, dpd
