"""Slices of the graph materialized through Dagster, each only what its table needs: a day not
landed, a bad landing file or manifest (the raw step), a manifest disagreeing with its files
(the transactions held back, not the other tables), a re-delivered posting (raw and staged), a
quarantined master row (the transactions' slice over two days)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, timedelta

import dagster as dg
import pytest

from bank_assets.builders.assets import raw_asset, staged_assets
from bank_assets.io.lake import LakeError, day_path
from bank_assets.io.spark.tables import read_day
from bank_assets.model import staging
from bank_assets.model.sources import SOURCES
from bank_assets.simulator import simulate
from bank_assets_tests.builders import (
    built,
    checks,
    day_checksum,
    materialize,
    query,
    upstream_of,
)
from bank_assets_tests.conftest import DAY

# What loads the day's transactions into the warehouse, with the dimensions they point to.
TRANSACTIONS = upstream_of("warehouse/fact_transactions")


@pytest.mark.slow
def test_a_day_that_has_not_landed_is_not_processed(resources, lake):
    with pytest.raises(LakeError, match="has not landed: no manifest"):
        materialize(resources, dg.AssetSelection.groups("raw"), partition_key="2026-11-01")


@pytest.mark.slow
def test_manifest_disagreeing_with_the_files_stops_before_the_warehouse(resources, lake, pg_dsn):
    (landed,) = simulate(lake, DAY, 1, 500, seed=4)
    manifest = landed.manifest
    manifest["tables"]["transactions"]["rows"] += 1  # one line announced but never delivered
    lake.write_bytes(f"landing/manifests/{DAY}.json", json.dumps(manifest).encode())
    result = materialize(
        resources, TRANSACTIONS, partition_key=DAY.isoformat(), raise_on_error=False
    )
    assert not result.success
    (failed,) = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed.check_name == "rows_accounted_for" and failed.asset_key.path[1] == "transactions"
    assert f"unaccounted for on {DAY}" in failed.description
    done = built(result)
    assert "staged/transactions" in done
    assert "curated/fact_transactions" not in done and "warehouse/fact_transactions" not in done
    assert "warehouse/dim_clients" in done  # other tables of the day are not held back
    assert query(pg_dsn, "select count(*) from dw.fact_transactions") == [(0,)]


def _step_failure(result: dg.ExecuteInProcessResult) -> str:
    """The message the Dagster UI shows for the failed step: its error and the cause chain."""
    (failure,) = result.get_step_failure_events()
    error, messages = failure.step_failure_data.error, []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


@pytest.mark.slow
def test_a_bad_landing_file_or_manifest_fails_the_raw_step_naming_the_file(resources, lake):
    from bank_assets.builders.assets import raw_asset
    from bank_assets.io.spark.tables import count_rows
    from bank_assets.model.sources import CLIENTS

    simulate(lake, DAY, 1, 300, seed=8)
    raw = [raw_asset(CLIENTS)]
    assert dg.materialize(raw, partition_key=DAY.isoformat(), resources=resources).success
    landed = count_rows(lake, "raw", "clients", DAY)

    extra = f"{day_path('landing', 'clients', DAY)}/part-00001.jsonl"
    lake.write_bytes(extra, b'{"client_id": "C9"}\n')
    result = dg.materialize(
        raw, partition_key=DAY.isoformat(), resources=resources, raise_on_error=False
    )
    assert f"LandingFileError: {extra}: landed but not listed in" in _step_failure(result)
    assert count_rows(lake, "raw", "clients", DAY) == landed  # the previous raw day is intact

    lake.write_bytes(f"landing/manifests/{DAY}.json", b'{"day": "2026-11-20", "tables": {')
    result = dg.materialize(
        raw, partition_key=DAY.isoformat(), resources=resources, raise_on_error=False
    )
    message = _step_failure(result)
    assert f"ManifestError: landing/manifests/{DAY}.json: line 1 column 34: not valid" in message
    assert count_rows(lake, "raw", "clients", DAY) == landed


def landed_rows(lake, table: str, day) -> list[dict]:
    (part,) = lake.files(day_path("landing", table, day))
    text = lake.read_bytes(lake.relative(part.path)).decode()
    if part.path.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.slow
def test_a_quarantined_client_row_leaves_its_postings_on_its_previous_version(
    resources, lake, pg_dsn
):
    """Day 2's master row of a client is broken (an unknown segment): quarantined, and its
    postings take the client's version of day 1 (flagged, reported per client by a warn rule),
    not the unknown member; keys_resolve passes; the client's version stays current."""
    days = [DAY, DAY + timedelta(days=1)]
    landed = simulate(lake, DAY, 2, 600, seed=9)
    # the transactions and the clients' quarantine
    selection = TRANSACTIONS | upstream_of("warehouse/quarantine_clients")
    assert materialize(resources, selection, partition_key=days[0].isoformat()).success
    first_day = day_checksum(pg_dsn, days[0])

    owner = {a["account_id"]: a["client_id"] for a in landed_rows(lake, "accounts", days[1])}
    busy = Counter(owner.get(t["account_id"]) for t in landed_rows(lake, "transactions", days[1]))
    # a client with postings but no loan or survey that day (those have no fallback yet)
    others = {r["client_id"] for t in ("loans", "surveys") for r in landed_rows(lake, t, days[1])}
    client = next(c for c, _ in busy.most_common() if c and c not in others)
    (part,) = lake.files(day_path("landing", "clients", days[1]))
    rows = landed_rows(lake, "clients", days[1])
    for r in rows:
        if r["client_id"] == client:
            r["segment"] = "GOLDEN"  # not a segment: quarantined (invalid_code)
    lake.write_bytes(lake.relative(part.path), "".join(json.dumps(r) + "\n" for r in rows).encode())
    (before,) = query(
        pg_dsn,
        "select client_key, version, valid_from, valid_to, is_current from dw.dim_clients "
        "where client_id = %s",
        (client,),
    )

    result = materialize(resources, selection, partition_key=days[1].isoformat())
    assert result.success
    assert query(
        pg_dsn, "select record_key, rule_id from quarantine.clients where batch_id = %s", (days[1],)
    ) == [(client, "invalid_code")]
    evaluations = checks(result)
    assert evaluations[("staged/clients", "rows_accounted_for")].passed
    staged = read_day(lake, "staged", "transactions", days[1], ["account_id"])["account_id"]
    postings = sum(1 for a in staged.to_pylist() if owner.get(a) == client)
    assert postings > 0
    assert query(
        pg_dsn,
        "select client_key, previous_version, count(*) from dw.fact_transactions "
        "where date_key = %s and client_id = %s group by 1, 2",
        (int(days[1].strftime("%Y%m%d")), client),
    ) == [(before[0], True, postings)]
    assert query(
        pg_dsn,
        "select count(*) from dw.fact_transactions where previous_version and client_id <> %s",
        (client,),
    ) == [(0,)]
    resolved = evaluations[("curated/fact_transactions", "keys_resolve")]
    planted = landed[1].manifest["tables"]["transactions"]["defects"]["orphan_account"]
    assert resolved.passed and resolved.metadata["failed"].value == planted
    warned = evaluations[("curated/fact_transactions", "master_version_of_the_day")]
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert [r.data for r in warned.metadata["sample"].records] == [
        {"client_id": client, "rows": postings}
    ]
    assert f"(by client_id: {client} {postings})" in warned.description
    alerts = query(pg_dsn, "select subject from dq.alerts where kind = 'rule_warning'")
    assert (f"curated/fact_transactions:master_version_of_the_day:{days[1]}",) in alerts
    # the quarantined row closed nothing: the day-1 version is still the current one
    assert query(
        pg_dsn,
        "select client_key, version, valid_from, valid_to, is_current from dw.dim_clients "
        "where client_id = %s",
        (client,),
    ) == [before]
    assert before[3:] == (date(9999, 12, 31), True)
    tx = landed[1].manifest["tables"]["transactions"]
    assert query(
        pg_dsn, "select count(*) from dw.fact_transactions where batch_id = %s", (days[1],)
    ) == [(tx["expected"]["staged"],)]
    assert day_checksum(pg_dsn, days[0]) == first_day


def test_a_posting_redelivered_on_a_later_day_is_never_counted_twice(resources, lake):
    """Two days through the real raw and staged assets, in order: day 2's file re-sends one of
    day 1's postings as is (dropped, counted as a re-delivered duplicate) and another with a
    different amount (quarantined); day 1 stays as it was, and re-running either day gives the
    same rows."""
    simulate(lake, DAY, 2, 300, seed=8)
    day2 = DAY + timedelta(days=1)
    assets = [raw_asset(SOURCES["transactions"]), staged_assets(staging.STAGING["transactions"])]

    def stage(day):
        result = dg.materialize(assets, partition_key=day.isoformat(), resources=resources)
        (accounted,) = [
            e for e in result.get_asset_check_evaluations() if e.check_name == "rows_accounted_for"
        ]
        assert result.success and accounted.passed and accounted.partition == day.isoformat()
        return {k: v.value for k, v in accounted.metadata.items()}

    def rows(zone, day):
        table = read_day(lake, zone, "transactions", day).drop_columns(["landed_at"])
        return sorted(table.to_pylist(), key=lambda r: (r["source_file"], r["source_line"]))

    stage(DAY)
    day1 = rows("staged", DAY)
    (landed1,) = lake.files(day_path("landing", "transactions", DAY))
    lines1 = list(csv.reader(io.StringIO(lake.read_bytes(lake.relative(landed1.path)).decode())))
    header = lines1[0]
    at = {c: header.index(c) for c in ("transaction_id", "amount", "currency")}
    same, other = [r for r in day1 if r["currency"] == "EUR"][:2]
    exact = next(x for x in lines1 if x[at["transaction_id"]] == same["transaction_id"])
    changed = list(next(x for x in lines1 if x[at["transaction_id"]] == other["transaction_id"]))
    changed[at["amount"]] = "1.00" if changed[at["amount"]] != "1.00" else "2.00"

    (landed2,) = lake.files(day_path("landing", "transactions", day2))
    lines2 = list(csv.reader(io.StringIO(lake.read_bytes(lake.relative(landed2.path)).decode())))
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([*lines2, exact, changed])
    lake.write_bytes(lake.relative(landed2.path), out.getvalue().encode())
    manifest = lake.read_manifest(day2)
    manifest["tables"]["transactions"]["rows"] += 2
    lake.write_bytes(f"landing/manifests/{day2}.json", json.dumps(manifest).encode())

    figures = stage(day2)
    assert figures["redelivered"] == 1 and figures["duplicates_dropped"] >= 1
    assert (
        figures["landed"]
        == figures["staged"] + figures["quarantined"] + (figures["duplicates_dropped"])
    )
    staged2, quarantined2 = rows("staged", day2), rows("quarantine", day2)
    staged_ids = {r["transaction_id"] for r in staged2}
    assert not {same["transaction_id"], other["transaction_id"]} & staged_ids
    assert same["transaction_id"] not in {r["record_key"] for r in quarantined2}
    (conflict,) = [r for r in quarantined2 if r["record_key"] == other["transaction_id"]]
    assert conflict["rule_id"] == "conflicting_redelivery"
    assert f"was staged on {DAY} with different content" in conflict["reason"]
    assert (conflict["source_file"], conflict["source_line"]) == (
        lake.relative(landed2.path),
        len(lines2) + 2,  # lines count from 1 (the header): the second appended line
    )
    assert rows("staged", DAY) == day1  # the earlier day is intact

    assert stage(day2) == figures  # re-running the day: the same figures and rows
    assert (rows("staged", day2), rows("quarantine", day2)) == (staged2, quarantined2)
    stage(DAY)  # an earlier day re-run after a later one looks only back: unchanged
    assert rows("staged", DAY) == day1
