"""Asset checks generated from the rule catalogue (`model/quality.py`), scoped to the run's days.

One check per rule on each checked asset, partitioned by day like the assets: a run records one
evaluation per check and day, against that day's partition, also when it covers a range. Fatal
rules are blocking (a failure on any day stops the table's downstream assets for the run), error
and warn rules are not. Each evaluation carries rows checked, failed and failed % as numbers (they
plot per partition), a table of failing rows (and for error rules the rows staging quarantined).
Every result is also kept in dq.results, one row per table, rule and day, and a warn rule that
flags rows raises a `rule_warning` alert.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import dagster as dg
import polars as pl
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as Target,
)

from bank_assets.builders.metadata import sample_table
from bank_assets.builders.partitions import daily
from bank_assets.io.alerts import Alert, raise_alert
from bank_assets.io.lake import Lake, day_path
from bank_assets.io.spark.tables import count_rows, read_day, read_day_parts
from bank_assets.io.warehouse.checks import rule_failures
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model import quality, staging
from bank_assets.model.keys import RAW_LINEAGE
from bank_assets.model.tables import WarehouseTable

SEVERITY = {
    quality.FATAL: dg.AssetCheckSeverity.ERROR,
    quality.ERROR: dg.AssetCheckSeverity.ERROR,
    quality.WARN: dg.AssetCheckSeverity.WARN,
}


def check_specs(table: str, *extra: quality.DayRule) -> list[dg.AssetCheckSpec]:
    """The asset checks of `table` ("staged/transactions"): one per `extra` rule, catalogue
    rule and day-level rule."""
    return [
        dg.AssetCheckSpec(
            r.id,
            asset=table.split("/"),
            blocking=_blocking(r.severity),
            description=f"{r.severity}: {r.description}",
            partitions_def=daily,
        )
        for r in (*extra, *quality.CATALOGUE.get(table, ()), *quality.DAY_RULES.get(table, ()))
    ]


def validate_days(
    lake: Lake,
    table: str,
    days: Sequence[date],
    quarantined: dict[date, dict[str, int]] | None = None,
) -> list[quality.Result]:
    """The catalogue's rules over each day of `table`, read from the lake (only the columns the
    rules read) in parts of bounded size, and its day-level rules."""
    out = []
    for day in days:
        if table in quality.CATALOGUE:
            tallies = day_tallies(lake, table, day, day_inputs(lake, table, day))
            out += quality.results(table, day, tallies, (quarantined or {}).get(day))
        out += day_results(lake, table, day)
    return out


def day_tallies(
    lake: Lake, table: str, day: date, inputs: quality.Inputs
) -> dict[str, quality.Tally]:
    """Every rule of `table` over one day, in parts: the rules of a row each part as read (of
    quality.PART_ROWS rows), those with `over` each bucket of their columns' hash (a day of n
    times quality.BUCKET_ROWS rows: n buckets, the day read n times, the first time with the
    row rules' columns, then only with theirs), so the driver's memory does not grow with the
    day. A day of one bucket is read once, as a whole."""
    zone, name = table.split("/")
    partitions = quality.partitions(table)
    keyed = {over: rules for over, rules in partitions.items() if over}
    buckets = _buckets(count_rows(lake, zone, name, day) if keyed else 0)
    if buckets == 1 and keyed:  # the whole day in one bucket: its keyed rules in one pass
        keyed = {tuple(c for over in keyed for c in over): [r for rs in keyed.values() for r in rs]}
    out: dict[str, quality.Tally] = {}

    def add(tallies: dict[str, quality.Tally]) -> None:
        for rule_id, t in tallies.items():
            out[rule_id] = out[rule_id] + t if rule_id in out else t

    for bucket in range(buckets):
        now = partitions.get((), []) if bucket == 0 else []
        read = quality.checked_columns(table, [*now, *(r for rs in keyed.values() for r in rs)])
        kept: dict[tuple[str, ...], list[pl.DataFrame]] = {over: [] for over in keyed}
        offset = 0
        for arrow in read_day_parts(lake, zone, name, day, read, quality.PART_ROWS):
            part = pl.from_arrow(arrow).with_row_index(quality.ROW, offset)
            offset += part.height
            if now:
                add(quality.tally(table, part, day, inputs, now))
            for over, rules in keyed.items():
                mine = part.filter(_bucket(over, buckets) == bucket) if buckets > 1 else part
                wanted = {*quality.checked_columns(table, rules), quality.ROW}
                kept[over].append(mine.select(c for c in mine.columns if c in wanted))
            del arrow, part  # the next part is read without this one
        for over, rules in keyed.items():
            add(
                quality.tally(
                    table, pl.concat(kept.pop(over), how="vertical_relaxed"), day, inputs, rules
                )
            )
    return out


def day_parts(
    lake: Lake,
    zone: str,
    name: str,
    day: date,
    columns: Sequence[str],
    over: Sequence[str] = (),
    buckets: int = 1,
    dictionary: Sequence[str] = (),
) -> Iterator[pl.DataFrame]:
    """The day's rows (only `columns`) in parts of about quality.PART_ROWS rows, each row with
    its position in the day (quality.ROW); with `over`: in `buckets` of the columns' hash, each
    holding every row of its values (the day read once per bucket)."""
    for bucket in range(buckets):
        kept, offset = [], 0
        for arrow in read_day_parts(lake, zone, name, day, columns, quality.PART_ROWS, dictionary):
            part = pl.from_arrow(arrow).with_row_index(quality.ROW, offset)
            offset += part.height
            if not over:
                yield part
            else:
                kept.append(part.filter(_bucket(over, buckets) == bucket) if buckets > 1 else part)
            del arrow, part
        if over:
            yield pl.concat(kept, how="vertical_relaxed")


def _buckets(rows: int) -> int:
    return max(1, math.ceil(rows / quality.BUCKET_ROWS))


def _bucket(over: Sequence[str], buckets: int) -> pl.Expr:
    """A row's bucket: its `over` values' hash; rows without a value are spread by position
    (they have nothing to be checked with)."""
    key = pl.col(over[0]) if len(over) == 1 else pl.struct(over)
    return (
        pl.when(pl.any_horizontal(pl.col(*over).is_null()))
        .then(pl.col(quality.ROW).cast(pl.UInt64))
        .otherwise(key.hash())
        % buckets
    )


def day_inputs(lake: Lake, table: str, day: date) -> quality.Inputs:
    """The day's rows of the other lake tables `table`'s rules read (only the columns they read);
    one without files for the day is left out (its rules judge without it)."""
    out = {}
    for other, columns in quality.reads(table).items():
        zone, name = other.split("/")
        if lake.files(day_path(zone, name, day), ".parquet"):
            out[other] = pl.from_arrow(read_day(lake, zone, name, day, columns))
    return out


def day_results(lake: Lake, table: str, day: date) -> list[quality.Result]:
    """The day-level rules of `table` (quality.DAY_RULES), with the figures they need."""
    zone, name = table.split("/")
    out = []
    for rule in quality.DAY_RULES.get(table, ()):
        if rule is quality.AMOUNTS_RECONCILE:
            source, here = _amounts(lake, zone, name, day)
            out.append(quality.amounts_reconcile(table, day, source, here))
        elif rule is quality.VOLUME:
            weeks = range(1, quality.TRAILING_WEEKS + 1)
            history = [count_rows(lake, zone, name, day - timedelta(weeks=w)) for w in weeks]
            rows = count_rows(lake, zone, name, day)
            out.append(
                quality.volume_vs_trailing_median(table, day, rows, [n for n in history if n])
            )
        elif rule is quality.FRAUD_RATE:
            alerts = count_rows(lake, zone, name, day)
            postings = count_rows(lake, "curated", "fact_transactions", day)
            out.append(quality.fraud_rate(table, day, alerts, postings))
    return out


def _amounts(lake: Lake, zone: str, name: str, day: date) -> tuple[quality.Totals, ...]:
    """(the layer before, this table): rows and total amount per currency of the rows to
    reconcile, summed over the day's parts."""
    source: quality.Totals = {}
    here: quality.Totals = {}
    if zone == "staged":  # the same rows as landed: the typed amount is the landed text's value
        at = {r: s for r, s in RAW_LINEAGE.items() if s in ("source_file", "source_line")}
        line = next(r for r, s in at.items() if s == "source_line")
        # buckets by line: the same rows on both sides
        buckets = _buckets(max(count_rows(lake, z, name, day) for z in (zone, "raw")))
        columns = ["amount", "currency"]
        staged = day_parts(
            lake,
            zone,
            name,
            day,
            [*columns, *at.values()],
            ["source_line"],
            buckets,
            ["source_file"],
        )
        landed = day_parts(
            lake, "raw", name, day, [*columns, *at], [line], buckets, ["_source_file"]
        )
        for part, raw in zip(staged, landed, strict=True):
            raw = raw.select(
                pl.col("amount").str.strip_chars().cast(part.schema["amount"], strict=False),
                pl.col("currency").str.strip_chars().str.to_uppercase(),
                *[pl.col(r).alias(s) for r, s in at.items()],
            )
            joined = part.select(*at.values()).join(raw, on=list(at.values()), how="left")
            source, here = quality.totals(joined, source), quality.totals(part, here)
            del part, raw, joined  # the next bucket is read without this one
        return source, here
    # the fact holds every staged posting, its amount unchanged
    for part in day_parts(lake, zone, name, day, ["amount", "currency"]):
        here = quality.totals(part, here)
    for part in day_parts(lake, "staged", "transactions", day, ["amount", "currency"]):
        source = quality.totals(part, source)
    return source, here


def warehouse_results(
    warehouse: Warehouse,
    lake: Lake,
    asset: str,
    table: WarehouseTable,
    zone: str,
    name: str,
    loaded: dict[date, int],
) -> list[quality.Result]:
    """After a load of `table` (the asset "warehouse/...") from the lake's `zone/name`: the
    day's rows are all there (replace_day: exactly the lake's count; upsert: every key), and
    the catalogue's rules over the table as loaded (SCD2 dimensions: every version)."""
    out = []
    for day, rows in loaded.items():
        if table.load == "replace_day":
            expected = count_rows(lake, zone, name, day)
            out.append(
                quality.LOADED_EXACTLY.result(asset, day, expected, abs(rows - expected), [])
            )
        elif table.load == "upsert":
            keys = read_day(lake, zone, name, day, list(table.key))[table.key[0]].to_pylist()
            out.append(keys_loaded(warehouse, asset, table, day, keys))
    for r in quality.CATALOGUE.get(asset, ()):  # SQL aggregates over the table, in PostgreSQL
        checked, failed, sample = rule_failures(
            warehouse, table, r.sql, r.columns, quality.SAMPLE_ROWS
        )
        out += [quality.sql_result(asset, r, day, checked, failed, sample) for day in loaded]
    return out


def keys_loaded(
    warehouse: Warehouse, asset: str, table: WarehouseTable, day: date, keys: list
) -> quality.Result:
    present = warehouse.count_keys(table, keys)
    return quality.KEYS_LOADED.result(asset, day, len(keys), len(keys) - present, [])


def staging_results(
    spec: staging.StagingSpec, day: date, outcome: staging.Outcome
) -> list[quality.Result]:
    """dq.results rows for what staging did to a day: the reconciliation (fatal) and each
    quarantining rule (error: its rows were quarantined, none got through)."""
    table, landed = f"staged/{spec.source.name}", outcome.landed
    accounted = quality.ROWS_ACCOUNTED_FOR.result(
        table, day, landed, outcome.unaccounted, [outcome.figures()]
    )
    out = [dataclasses.replace(accounted, quarantined=outcome.quarantined)]
    for rule in staging.all_rules(spec, day):
        if rule.id not in staging.DROPPED and rule.id not in {r.rule_id for r in out}:
            out.append(
                quality.Result(
                    table,
                    rule.id,
                    quality.ERROR,
                    rule.description,
                    day,
                    landed,
                    0,
                    quarantined=outcome.rules.get(rule.id, 0),
                )
            )
    return out


def rows_accounted_for(
    context: dg.AssetExecutionContext, table: str, outcomes: dict[date, staging.Outcome]
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """The blocking reconciliation check of a staged `table`: its output and one evaluation
    per day."""
    yield _check_output(context, table, quality.ROWS_ACCOUNTED_FOR.id)
    targets = _targets(context, table, list(outcomes))
    for day, outcome in outcomes.items():
        yield accounted_for(table, day, outcome, targets.get(day.isoformat()))


def accounted_for(
    table: str, day: date, o: staging.Outcome, target: Target | None = None
) -> dg.AssetCheckEvaluation:
    """The reconciliation of one day, its figures as numbers (they plot per partition)."""
    figures = o.figures()
    accounted = figures.pop("accounted_for")
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(table.split("/")),
        check_name=quality.ROWS_ACCOUNTED_FOR.id,
        passed=accounted,
        severity=SEVERITY[quality.ROWS_ACCOUNTED_FOR.severity],
        blocking=_blocking(quality.ROWS_ACCOUNTED_FOR.severity),
        description=(
            "every landed row is staged, quarantined or a dropped duplicate"
            if accounted
            else f"rows unaccounted for on {day}: landed {o.landed} (manifest {o.manifest}), "
            f"staged {o.staged} + quarantined {o.quarantined} + duplicates {o.duplicates}"
        ),
        metadata={**figures, "unaccounted": o.unaccounted},
        target_materialization_data=target,
        partition=day.isoformat(),
    )


def record(
    context: dg.AssetExecutionContext, warehouse: Warehouse, results: list[quality.Result]
) -> None:
    """Keep the results in dq.results; raise an alert for each warn rule that flagged rows (one
    dq.alerts row per table, rule and day: a re-run updates it, see io/alerts.py)."""
    warehouse.record_results(results, context.run_id)
    for r in results:
        if r.severity == quality.WARN and r.failed:
            raise_alert(
                warehouse,
                Alert(
                    kind="rule_warning",
                    severity=quality.WARN,
                    message=f"{r.table} {r.day}: {r.failed} row(s) break {r.rule_id} "
                    f"({r.description})",
                    run_id=context.run_id,
                    job_name=context.run.job_name,
                    partition_key=r.day.isoformat(),
                    details={"table": r.table, "rule_id": r.rule_id, "failed": r.failed},
                    subject=f"{r.table}:{r.rule_id}:{r.day}",
                ),
            )


def report(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    results: list[quality.Result],
    started: float,
    recorded: Sequence[quality.Result] = (),
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """Record the results (and `recorded`: results kept in dq.results that are no check of
    their own) and yield each rule's check: one evaluation per day; `started`: when computing
    them began."""
    record(context, warehouse, [*recorded, *results])
    yield from evaluations(context, results, time.perf_counter() - started)


def evaluations(
    context: dg.AssetExecutionContext, results: list[quality.Result], seconds: float
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """Per rule, its check's output and one evaluation per day, recorded against the day's
    partition (a range run shows each day's own result, as dq.results keeps it). A failed
    blocking evaluation on any day fails the step once it has yielded everything, so the
    asset's downstream assets do not run. `checks_seconds`: the time all the asset's checks
    took together (reading, validating, recording), the same on each of its evaluations."""
    by_rule: dict[tuple[str, str], list[quality.Result]] = {}
    for r in results:
        by_rule.setdefault((r.table, r.rule_id), []).append(r)
    targets = {
        table: _targets(context, table, sorted({r.day for r in results if r.table == table}))
        for table in {r.table for r in results}
    }
    for (table, rule_id), days in by_rule.items():
        yield _check_output(context, table, rule_id)
        for r in days:
            target = targets[table].get(r.day.isoformat())
            yield evaluation(r, target, checks_seconds=round(seconds, 3))


def evaluation(r: quality.Result, target: Target | None = None, **extra) -> dg.AssetCheckEvaluation:
    """One rule's result for one day, as its check shows it for the day's partition."""
    metadata: dict = {
        "severity": r.severity,
        "checked": r.checked,
        "failed": r.failed,
        "failed_pct": r.failed_pct,
    }
    if r.tolerance:
        metadata["tolerance_pct"] = 100.0 * r.tolerance
    if r.quarantined is not None:
        metadata["quarantined"] = r.quarantined
    if (sample := sample_table(r.sample)) is not None:
        metadata["sample"] = sample
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(r.table.split("/")),
        check_name=r.rule_id,
        passed=r.passed,
        severity=SEVERITY[r.severity],
        blocking=_blocking(r.severity),
        description=f"{r.description}: {r.failed:,} of {r.checked:,} rows fail{_by_group(r)}",
        metadata={**metadata, **extra},
        target_materialization_data=target,
        partition=r.day.isoformat(),
    )


def _targets(
    context: dg.AssetExecutionContext, table: str, days: Sequence[date]
) -> dict[str, Target]:
    """Per day: the materialization of `table` the day's evaluations judge (this run's, yielded
    before its checks). Dagster counts a partition's check result as current only when it
    points at the partition's latest materialization, so the Checks tab's partition view shows
    it (an AssetCheckResult finds it itself, but only in a one-partition run)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(table.split("/")),
            asset_partitions=[d.isoformat() for d in days],
        ),
        limit=len(days),  # newest first: this run's, one per day
    ).records
    return {
        r.partition_key: Target(storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp)
        for r in records
        if r.partition_key
    }


def _check_output(context: dg.AssetExecutionContext, table: str, rule_id: str) -> dg.Output:
    """The output of a check's step (what Dagster yields itself for an AssetCheckResult)."""
    key = dg.AssetCheckKey(dg.AssetKey(table.split("/")), rule_id)
    return dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(key))


def _blocking(severity: str) -> bool:
    """Fatal rules block: a failure stops the table's downstream assets for the run."""
    return severity == quality.FATAL


def _by_group(r: quality.Result) -> str:
    """' (by currency: USD 67, JPY 3)' for a rule reported per group that failed rows."""
    group = r.group_by
    listed = ", ".join(f"{row[group]} {row['rows']:,}" for row in r.sample) if group else ""
    return f" (by {group}: {listed})" if listed else ""
