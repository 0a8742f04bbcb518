"""Defects planted in a day's transactions file at known rates, and what staging must make of
them: the manifest's counts let the pipeline's reconciliation (landed = staged + quarantined +
dropped duplicates) be checked exactly."""

from __future__ import annotations

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
