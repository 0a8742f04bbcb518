"""What many tests build the same way: SQL against a test's warehouse, a pipeline's resources,
and what a materialization reports (its metadata, its check evaluations, what it built)."""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psycopg

from bank_assets.model.sources import TRANSACTIONS
from bank_assets.model.tables import TABLES


def query(dsn: str, statement, params=()) -> list[tuple]:
    """The rows of one statement (a string or a psycopg.sql object), in its own connection."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement, params).fetchall()


def checksum(dsn: str) -> dict[str, tuple[int, str]]:
    """Per warehouse table: row count and a hash of every row (ordered), to prove tables intact."""
    out = {}
    for table in TABLES:
        rows = query(dsn, f"select t::text from {table} t order by t::text")
        out[table] = (len(rows), hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest())
    return out


def day_checksum(dsn: str, day) -> dict[str, tuple[int, str]]:
    """The rows of one day in every table loaded per day, hashed (to prove a day intact)."""
    out = {}
    for name, table in TABLES.items():
        if table.load == "replace_day":
            rows = query(
                dsn, f"select t::text from {name} t where batch_id = %s order by 1", (day,)
            )
            out[name] = (len(rows), hashlib.sha256("".join(r[0] for r in rows).encode()).digest())
    return out


def load_tables(dsn: str) -> list[str]:
    """The private load tables in the warehouse (staging.*, dw.<fact>_p<day>_<id>): none is
    left once every load is over."""
    return [
        r[0]
        for r in query(
            dsn,
            "select n.nspname || '.' || c.relname from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and "
            "(n.nspname = 'staging' or c.relname ~ '_p[0-9]{8}_[0-9a-f]{12}$') order by 1",
        )
    ]


def pipeline_resources(lake_url: str, dsn: str) -> dict:
    """The resources a run of the pipeline needs: local Spark, the lake at `lake_url`, the
    warehouse at `dsn`."""
    from bank_assets.resources import LakeResource, SparkResource, WarehouseResource

    return {
        "spark": SparkResource(spark_config={"spark.master": "local[2]"}),
        "lake": LakeResource(url=lake_url),
        "warehouse": WarehouseResource(dsn=dsn),
    }


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """Per asset materialized in the run ("raw/transactions"): its metadata values."""
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.metadata.items()}
        for e in (
            ev.step_materialization_data.materialization
            for ev in result.get_asset_materialization_events()
        )
    }


def built(result: dg.ExecuteInProcessResult) -> set[str]:
    """The assets the run materialized."""
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """The run's check evaluations by (asset, check name)."""
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def stop_group(process: subprocess.Popen, sig: int, timeout: float) -> None:
    """Signal a process's group (started with start_new_session), then kill the group if the
    process has not exited within `timeout` seconds."""
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def private_modes(root: Path) -> list[str]:
    """Everything under `root` that is not its owner's only: directories 0700, files 0600."""
    wrong = []
    # os.walk skips what vanishes mid-walk: a running server removes its temporary files.
    for top, _dirs, files in os.walk(root):
        for path in [Path(top), *(Path(top) / name for name in files)]:
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            expected = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            if stat.S_IMODE(st.st_mode) != expected:
                wrong.append(f"{path} {oct(stat.S_IMODE(st.st_mode))}")
    return wrong


# A landed transaction line that stages (tests change a field or two).
VALID_TRANSACTION = {
    "transaction_id": "TX1",
    "account_id": "A1",
    "posted_at": "2026-11-20T10:00:00Z",
    "transaction_type": "CARD_PAYMENT",
    "channel": "POS",
    "direction": "DEBIT",
    "amount": "12.50",
    "currency": "EUR",
    "balance_after": "100.00",
    "status": "POSTED",
    "merchant_id": "M0000001",
    "merchant_name": "Cafe",
    "mcc": "5812",
    "counterparty_iban": "",
    "transfer_id": "",
    "card_masked": "497010******1234",
    "country": "FR",
    "description": "CARD PAYMENT Cafe",
}
LANDED = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)


def raw_transactions(spark, rows: list[dict]):
    """Raw transactions rows as `land_raw` writes them, each `VALID_TRANSACTION` changed by one
    dict of `rows` (`_raw_line`: a malformed line), from line 2 of one landed file."""
    data = []
    for line, row in enumerate(rows, start=2):
        values = {**VALID_TRANSACTION, **row}
        malformed = values.pop("_raw_line", None)
        source = [None if malformed else values[c] for c in TRANSACTIONS.columns]
        error = "expected 17 fields, found 3" if malformed else None
        data.append((*source, "landing/t/part-0.csv", line, LANDED, malformed, error))
    return spark.createDataFrame(data, TRANSACTIONS.raw_schema())


@functools.cache
def definitions() -> dg.Definitions:
    """The project's Definitions, loaded once per test process."""
    from bank_assets.definitions import defs

    return defs()


def upstream_of(*keys: str) -> dg.AssetSelection:
    """`keys` ("warehouse/fact_transactions") and everything they are built from, with what
    their steps write besides (a staged table's quarantine): a slice of the graph that a run
    can materialize on its own."""
    keys_ = [dg.AssetKey.from_user_string(k) for k in keys]
    return dg.AssetSelection.assets(*keys_).upstream().required_multi_asset_neighbors()


def materialize(resources: dict, selection=None, **kwargs) -> dg.ExecuteInProcessResult:
    """The project's assets materialized in process: `selection` (default: the whole graph),
    with `dg.materialize`'s other arguments (partition_key, tags, raise_on_error...)."""
    return dg.materialize(
        list(definitions().assets), selection=selection, resources=resources, **kwargs
    )
