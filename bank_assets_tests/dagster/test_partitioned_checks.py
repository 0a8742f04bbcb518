"""Check results and figures per partition: a 3-day range run (one run, as a single-run backfill
runs it) with a fatal defect on day 2 only records every check once per day against that day,
the fatal one failing on day 2 alone; each day's materialization carries its own row count; the
failed day re-run by itself records its own results and redoes no good day."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

import dagster as dg
import pytest

from bank_assets.simulator import simulate
from bank_assets_tests.builders import built, materialize, query, upstream_of
from bank_assets_tests.conftest import DAY

DAYS = [DAY + timedelta(days=i) for i in range(3)]
KEYS = [d.isoformat() for d in DAYS]
TRANSACTIONS = upstream_of("warehouse/fact_transactions")
ACCOUNTED = dg.AssetCheckKey(dg.AssetKey(["staged", "transactions"]), "rows_accounted_for")
# What the failed reconciliation holds back (curated/fraud_alerts and its load need the fact).
HELD_BACK = {"curated/fact_transactions", "warehouse/fact_transactions"}


def _per_day(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, dict]]:
    """Per asset and partition: the metadata of the run's materialization event."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        out[mat.asset_key.to_user_string()][mat.partition] = {
            k: v.value for k, v in mat.metadata.items()
        }
    return out


def _history(instance, key: dg.AssetCheckKey, run_id: str) -> dict[str, str]:
    """The check's executions of one run, as the Checks tab lists them: partition -> status."""
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
    return {r.partition: r.status.value for r in records if r.run_id == run_id}


@pytest.mark.slow
def test_a_range_with_one_bad_day_records_every_check_per_day(resources, lake, pg_dsn):
    landed = simulate(lake, DAYS[0], 3, 300, seed=15)
    good = lake.read_bytes(f"landing/manifests/{DAYS[1]}.json")
    manifest = json.loads(good)
    manifest["tables"]["transactions"]["rows"] += 1  # day 2 announces a line never delivered
    lake.write_bytes(f"landing/manifests/{DAYS[1]}.json", json.dumps(manifest).encode())
    range_tags = {
        "dagster/asset_partition_range_start": KEYS[0],
        "dagster/asset_partition_range_end": KEYS[-1],
    }

    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(
            resources, TRANSACTIONS, tags=range_tags, instance=instance, raise_on_error=False
        )
        assert not result.success
        evaluations = result.get_asset_check_evaluations()

        # Every check of the run: one evaluation per day, each against its day's partition.
        by_check = defaultdict(list)
        for e in evaluations:
            by_check[e.asset_check_key].append(e.partition)
        assert len(by_check) > 30
        assert all(sorted(partitions) == KEYS for partitions in by_check.values()), by_check
        # and the instance keeps them so (the Checks tab and its execution history)
        for key in by_check:
            statuses = _history(instance, key, result.run_id)
            assert set(statuses) == set(KEYS) and set(statuses.values()) <= {"SUCCEEDED", "FAILED"}
        # The fatal reconciliation fails on day 2 only, saying why.
        assert _history(instance, ACCOUNTED, result.run_id) == {
            KEYS[0]: "SUCCEEDED",
            KEYS[1]: "FAILED",
            KEYS[2]: "SUCCEEDED",
        }
        (failed,) = [e for e in evaluations if e.asset_check_key == ACCOUNTED and not e.passed]
        assert failed.partition == KEYS[1] and failed.blocking
        assert f"rows unaccounted for on {DAYS[1]}" in failed.description
        assert failed.metadata["unaccounted"].value == 1
        fatal = [e for e in evaluations if e.blocking and not e.passed]
        assert fatal == [failed]

        # Blocking holds for the range: the transactions' downstream assets ran for no day.
        done = built(result)
        assert not HELD_BACK & done
        assert {"staged/transactions", "warehouse/dim_clients"} <= done

        # Each day's materialization carries that day's own figures; dagster/row_count is the
        # table's rows over every day.
        meta = _per_day(result)
        names = [n for n in landed[0].manifest["tables"] if f"raw/{n}" in meta]
        assert {"transactions", "clients", "accounts"} <= set(names)
        for name in names:
            raw, staged = meta[f"raw/{name}"], meta[f"staged/{name}"]
            assert set(raw) == set(staged) == set(KEYS), name
            for day, expected in zip(KEYS, landed, strict=True):
                table = expected.manifest["tables"][name]
                assert raw[day]["dagster/partition_row_count"] == table["rows"], (name, day)
                assert staged[day]["dagster/partition_row_count"] == table["expected"]["staged"]
                assert raw[day]["seconds"] > 0 and raw[day]["bytes"] > 0
            total = sum(x.manifest["tables"][name]["rows"] for x in landed)
            assert {raw[day]["dagster/row_count"] for day in KEYS} == {total}
        accounts = meta["warehouse/dim_accounts"]  # SCD2: every version, the unknown member
        assert (
            accounts[KEYS[0]]["dagster/row_count"]
            == query(pg_dsn, "select count(*) from dw.dim_accounts")[0][0]
        )

        # dq.results holds what the Checks tab shows: one row per table, rule and day.
        recorded = {
            (table, rule, day.isoformat()): (passed, checked, failed)
            for table, rule, day, passed, checked, failed in query(
                pg_dsn,
                "select table_name, rule_id, batch_id, passed, checked, failed from dq.results "
                "where run_id = %s",
                (result.run_id,),
            )
        }
        for e in evaluations:
            passed, checked, failed = recorded[
                (e.asset_key.to_user_string(), e.check_name, e.partition)
            ]
            assert passed is e.passed, e
            if "checked" in e.metadata:
                assert (checked, failed) == (
                    e.metadata["checked"].value,
                    e.metadata["failed"].value,
                )

        # The failed day, fixed and re-run by itself: its own results, no good day redone.
        lake.write_bytes(f"landing/manifests/{DAYS[1]}.json", good)
        again = materialize(resources, TRANSACTIONS, partition_key=KEYS[1], instance=instance)
        assert again.success
        assert {e.partition for e in again.get_asset_check_evaluations()} == {KEYS[1]}
        assert {
            e.step_materialization_data.materialization.partition
            for e in again.get_asset_materialization_events()
        } == {KEYS[1]}
        assert built(again) >= HELD_BACK
        assert _history(instance, ACCOUNTED, again.run_id) == {KEYS[1]: "SUCCEEDED"}
        fact_day = _per_day(again)["warehouse/fact_transactions"][KEYS[1]]
        staged_rows = landed[1].manifest["tables"]["transactions"]["expected"]["staged"]
        assert fact_day["dagster/partition_row_count"] == staged_rows
        assert fact_day["dagster/row_count"] == staged_rows  # the only day in the fact
