"""The warehouse's side of the asset checks: a rule over a whole table, evaluated in PostgreSQL
(only the figures and a few failing rows reach the driver, whatever the table's size)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql
from psycopg.rows import dict_row

from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model.tables import WarehouseTable


def rule_failures(
    warehouse: Warehouse, table: WarehouseTable, passes: str, columns: Sequence[str], sample: int
) -> tuple[int, int, list[dict]]:
    """(rows, rows failing, the first `sample` failing ones in `columns` order) of `table` for a
    row predicate `passes`: a boolean SQL expression from the rule catalogue (model/quality.py,
    code, never input), window functions allowed; NULL counts as passing, as in the lake's
    checks."""
    target = sql.Identifier(table.schema, table.name)
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    judged = sql.SQL("select {cols}, coalesce({passes}, true) as ok from {target}").format(
        cols=cols, passes=sql.SQL(passes), target=target
    )
    with warehouse.connect() as conn:
        checked, failed = conn.execute(
            sql.SQL("select count(*), count(*) filter (where not ok) from ({}) j").format(judged)
        ).fetchone()
        rows = []
        if failed:
            query = sql.SQL("select {} from ({}) j where not ok order by {} limit %s").format(
                cols, judged, cols
            )
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(query, (sample,)).fetchall()
    return checked, failed, rows
