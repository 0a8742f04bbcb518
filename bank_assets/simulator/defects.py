"""Defects planted in a day's transactions file at known rates, and what staging must make of
them: the manifest's counts let the pipeline's reconciliation (landed = staged + quarantined +
dropped duplicates) be checked exactly."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def plant_defects(
    table: pa.Table, day: date, seed: int, scale: float, known_accounts: int
) -> tuple[pa.Table, list[str], dict[str, int]]:
    """Add defect rows (and malformed lines) to a day's clean postings; returns their counts.
    Each defect is a changed copy of a clean single-leg posting (never a transfer leg), each
    clean row copied at most once."""
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    counts = defect_counts(len(table), scale)
    candidates = np.flatnonzero(pc.equal(table["transfer_id"], "").to_numpy(zero_copy_only=False))
    picks = rng.permutation(candidates)[: sum(counts.values())]
    sources = dict(zip(counts, np.split(picks, np.cumsum(list(counts.values()))[:-1])))
    changes = _changes(day, known_accounts)
    # a defect with no copies adds nothing (an empty copy may not even have the table's types)
    rows = [
        _copy(table, sources[k], changes[k])
        for k in DEFECTS
        if k != "malformed_line" and len(sources[k])
    ]
    malformed = _malformed_lines(_copy(table, sources["malformed_line"], changes["malformed_line"]))
    # Extras go to random places in the file: order by position (clean rows keep theirs).
    combined = pa.concat_tables([table, *rows])
    n = len(table)
    position = np.concatenate([np.arange(n, dtype=float), rng.uniform(0, n, len(combined) - n)])
    return combined.take(np.argsort(position, kind="stable")), malformed, counts


def defect_counts(n: int, scale: float) -> dict[str, int]:
    """How many of each defect a day of `n` clean postings holds (none below 100 postings)."""
    counts = {
        kind: (max(1, round(n * rate * scale)) if scale > 0 and n >= 100 else 0)
        for kind, (rate, _) in DEFECTS.items()
    }
    # Orphans are tolerated up to 0.1% of a day's postings (above, the keys_resolve check is
    # fatal): a healthy day stays under it, so small days plant fewer (800 postings: none).
    counts["orphan_account"] = min(counts["orphan_account"], int(n * 0.001))
    return counts


Change = Callable[[pa.Table], pa.Array]


def _changes(day: date, known_accounts: int) -> dict[str, dict[str, Change]]:
    """Per defect, how its copy differs from the clean row: column -> new values. Every copy but
    a duplicate gets a fresh transaction id (a 9 after the date: no clean posting has one)."""
    numbers = itertools.count(1)

    def fresh(part: pa.Table) -> pa.Array:
        return pa.array(
            [f"TX{day:%Y%m%d}9{next(numbers):07d}" for _ in range(len(part))], pa.string()
        )

    def constant(value: str) -> Change:
        return lambda part: pa.array([value] * len(part), pa.string())

    def orphans(part: pa.Table) -> pa.Array:
        ids = [f"A{99_000_000_000 + known_accounts + i:011d}" for i in range(len(part))]
        return pa.array(ids, pa.string())

    future = datetime(day.year, day.month, day.day) + timedelta(days=3, hours=10)
    return {
        "exact_duplicate": {},
        "conflicting_duplicate": {"amount": lambda part: _bump(part["amount"])},
        "malformed_line": {"transaction_id": fresh},
        "invalid_amount": {"transaction_id": fresh, "amount": constant("12,5O")},
        "unknown_currency": {"transaction_id": fresh, "currency": constant("EUX")},
        "too_many_decimals": {
            "transaction_id": fresh,
            "currency": constant("JPY"),
            "amount": constant("1500.75"),
        },
        "future_timestamp": {
            "transaction_id": fresh,
            "posted_at": constant(future.strftime("%Y-%m-%dT%H:%M:%SZ")),
        },
        "orphan_account": {"transaction_id": fresh, "account_id": orphans},
    }


def _copy(table: pa.Table, rows: np.ndarray, changes: dict[str, Change]) -> pa.Table:
    part = table.take(rows)
    for column, make in changes.items():
        part = part.set_column(part.schema.get_field_index(column), column, make(part))
    return part


def _malformed_lines(part: pa.Table) -> list[str]:
    """Lines with 8 fields where the header has 18."""
    columns = (part[c].to_pylist() for c in part.column_names)
    return [",".join(f'"{v}"' for v in row[:8]) for row in zip(*columns)]


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
