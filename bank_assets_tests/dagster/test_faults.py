"""One run per day through Dagster: a second run of a day, started while the first works, fails
before any step naming the first; the first completes with its data (real PostgreSQL; the
warehouse-level faults, killed loads and day locks without Dagster: io/test_warehouse_faults.py)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import dagster as dg
import pytest

from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model.tables import TABLES
from bank_assets.resources import WarehouseResource
from bank_assets_tests.builders import load_tables, materialize, query, upstream_of
from bank_assets_tests.conftest import DAY

OTHER = DAY - timedelta(days=1)


def test_a_second_run_of_a_day_fails_before_writing_naming_the_first(pg_dsn):
    """Two Dagster runs of one day in two threads: the second fails at once, before any step,
    naming the first; the first completes with its data; a range over the day is refused too."""
    from bank_assets.defs.reference import assets as reference_assets

    started, release = threading.Event(), threading.Event()

    @dg.asset(partitions_def=reference_assets[0].partitions_def)
    def slow_step(warehouse: WarehouseResource) -> None:
        started.set()  # the first run is under way, holding the day
        assert release.wait(60)

    resources = {"warehouse": WarehouseResource(dsn=pg_dsn)}
    first: list = []
    thread = threading.Thread(
        target=lambda: first.append(
            dg.materialize(
                [*reference_assets, slow_step], partition_key=DAY.isoformat(), resources=resources
            )
        )
    )
    thread.start()
    try:
        assert started.wait(60)
        with dg.DagsterInstance.ephemeral() as instance:
            for kwargs in (
                {"partition_key": DAY.isoformat()},
                {
                    "tags": {
                        "dagster/asset_partition_range_start": OTHER.isoformat(),
                        "dagster/asset_partition_range_end": DAY.isoformat(),
                    }
                },
            ):
                second = dg.materialize(
                    reference_assets,
                    resources=resources,
                    instance=instance,
                    raise_on_error=False,
                    **kwargs,
                )
                assert not second.success
                assert second.get_asset_materialization_events() == []
                assert [e for e in second.all_events if e.is_step_start] == []
                (holder,) = query(pg_dsn, "select run_id from dq.day_locks")
                messages = " ".join(
                    str(e.event_specific_data.error) for e in second.all_events if e.is_failure
                )
                assert f"day {DAY} is being processed by run {holder[0]}" in messages
    finally:
        release.set()
        thread.join(120)
    (result,) = first
    assert result.success and holder[0] == result.run_id
    counts = {
        t: query(pg_dsn, f"select count(*) from {t} where {TABLES[t].key[0]} <> -1")[0][0]
        for t in ("dw.dim_transaction_types", "dw.dim_channels")
    }
    assert all(n > 0 for n in counts.values())
    assert query(pg_dsn, "select count(*) from dq.day_locks") == [(0,)]  # released at the end


@pytest.mark.slow
def test_two_runs_of_one_day_through_the_pipeline(resources, lake, pg_dsn):
    """The real pipeline of a day (the slice that loads the transactions) in one thread; a
    second run of the day, started while the first works, fails before any step naming the
    first; the first's data reconciles."""
    from bank_assets.simulator import simulate

    transactions = upstream_of("warehouse/fact_transactions")
    (landed,) = simulate(lake, DAY, 1, 800, seed=8)
    Warehouse(pg_dsn).apply_ddl()  # dq.day_locks exists to be watched
    first: list = []
    thread = threading.Thread(
        target=lambda: first.append(
            materialize(resources, transactions, partition_key=DAY.isoformat())
        )
    )
    thread.start()
    try:
        holder = []
        for _ in range(600):
            holder = query(pg_dsn, "select run_id from dq.day_locks where day = %s", (DAY,))
            if holder:
                break
            time.sleep(0.1)
        assert holder, "the first run did not take the day"
        second = materialize(
            resources, transactions, partition_key=DAY.isoformat(), raise_on_error=False
        )
        assert not second.success
        assert [e for e in second.all_events if e.is_step_start] == []
        messages = " ".join(
            str(e.event_specific_data.error) for e in second.all_events if e.is_failure
        )
        assert f"day {DAY} is being processed by run {holder[0][0]}" in messages
    finally:
        thread.join(900)
    (result,) = first
    assert result.success and result.run_id == holder[0][0]
    expected = landed.manifest["tables"]["transactions"]["expected"]["staged"]
    assert query(
        pg_dsn, "select count(*) from dw.fact_transactions where batch_id = %s", (DAY,)
    ) == [(expected,)]
    assert load_tables(pg_dsn) == []
