"""The analyst questions in sql/queries/: list them, run one for a day, print the answer.

Each file is one parameterized SELECT (`%(date)s` is the business day) whose first line is a
`-- ` comment saying what it answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from bank_assets.io.warehouse.loader import SQL_DIR
from bank_assets.io.warehouse.migrations import sql_files

QUERY_DIR = SQL_DIR / "queries"


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    rows: list[tuple]


def catalogue() -> dict[str, str]:
    """Query name -> the question it answers."""
    return {
        p.name.removesuffix(".sql"): p.read_text().splitlines()[0].removeprefix("-- ").strip()
        for p in sql_files(QUERY_DIR)
    }


def run(dsn: str, name: str, day: date) -> Answer:
    known = catalogue()
    if name not in known:
        raise KeyError(f"no query named {name!r}; known: {', '.join(known)}")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute((QUERY_DIR / f"{name}.sql").read_text(), {"date": day})
        return Answer([c.name for c in cur.description], cur.fetchall())


def has_day(dsn: str, day: date) -> bool:
    """Whether the warehouse holds data of `day`: a run of it recorded its data-quality results
    (every asset records its checks' results for each day it loads)."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select exists (select 1 from analyst.dq_results where batch_id = %s)", (day,)
        ).fetchone()[0]


def alerts(dsn: str, day: date | None = None) -> Answer:
    """The alerts (view analyst.v_alerts), newest first: all, or those about `day`."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select date_trunc('second', a.raised_at) as raised_at, kind, severity, day, "
            "message, run_id, webhook from analyst.v_alerts a "
            "where %(day)s::text is null or day = %(day)s::text "
            "order by a.raised_at desc, alert_id desc",
            {"day": day and day.isoformat()},
        )
        return Answer([c.name for c in cur.description], cur.fetchall())


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(answer: Answer) -> str:
    """The answer as an aligned text table (numbers right-aligned)."""
    cells = [[_cell(v) for v in row] for row in answer.rows]
    numeric = [
        all(isinstance(r[i], Decimal | int | float) or r[i] is None for r in answer.rows)
        for i in range(len(answer.columns))
    ]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(answer.columns)]

    def line(values):
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)
        ).rstrip()

    out = [line(answer.columns), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out)
