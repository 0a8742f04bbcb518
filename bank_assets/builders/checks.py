"""Asset checks generated from the rule catalogue (`model/quality.py`), scoped to the run's days.

One check per rule on each checked asset; fatal rules are blocking (a failure stops the table's
downstream assets for the run), error and warn rules are not. Each result carries rows checked,
failed and failed %, a sample of failing rows (and for error rules the rows staging
quarantined), per day when a run covers several. Every result is also kept in dq.results, and a
warn rule that flags rows raises a `rule_warning` alert.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import dagster as dg
import polars as pl

from bank_assets.io.alerts import Alert, raise_alert
from bank_assets.io.lake import Lake, day_path
from bank_assets.io.spark.tables import count_rows, read_day
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
            blocking=r.severity == quality.FATAL,
            description=f"{r.severity}: {r.description}",
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
    rules read), and its day-level rules."""
    zone, name = table.split("/")
    out = []
    for day in days:
        if table in quality.CATALOGUE:
            columns = quality.checked_columns(table)
            frame = pl.from_arrow(read_day(lake, zone, name, day, columns))
            inputs = day_inputs(lake, table, day)
            out += quality.validate(table, frame, day, (quarantined or {}).get(day), inputs)
        out += day_results(lake, table, day)
    return out


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


def _amounts(lake: Lake, zone: str, name: str, day: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the layer before, this table): currency and amount of the rows to reconcile."""
    if zone == "staged":  # the same rows as landed: the typed amount is the landed text's value
        at = {r: s for r, s in RAW_LINEAGE.items() if s in ("source_file", "source_line")}
        columns = ["amount", "currency"]
        here = pl.from_arrow(
            read_day(lake, zone, name, day, [*columns, *at.values()], dictionary=["source_file"])
        )
        raw = pl.from_arrow(
            read_day(lake, "raw", name, day, [*columns, *at], dictionary=["_source_file"])
        ).select(
            pl.col("amount").str.strip_chars().cast(here.schema["amount"], strict=False),
            pl.col("currency").str.strip_chars().str.to_uppercase(),
            *[pl.col(r).alias(s) for r, s in at.items()],
        )
        source = here.select(*at.values()).join(raw, on=list(at.values()), how="left")
        return source, here
    # the fact holds every staged posting, its amount unchanged
    here = pl.from_arrow(read_day(lake, zone, name, day, ["amount", "currency"]))
    source = pl.from_arrow(read_day(lake, "staged", "transactions", day, ["amount", "currency"]))
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
    if asset in quality.CATALOGUE:
        columns = quality.checked_columns(asset)
        frame = pl.DataFrame(warehouse.select(table, columns), schema=columns, orient="row")
        out += [r for day in loaded for r in quality.validate(asset, frame, day)]
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


def rows_accounted_for(table: str, outcomes: dict[date, staging.Outcome]) -> dg.AssetCheckResult:
    """The blocking reconciliation check of a staged `table` over the run's days."""
    by_day = {day.isoformat(): o.figures() for day, o in outcomes.items()}
    unaccounted = [day for day, figures in by_day.items() if not figures["accounted_for"]]
    return dg.AssetCheckResult(
        check_name=quality.ROWS_ACCOUNTED_FOR.id,
        asset_key=table.split("/"),
        passed=not unaccounted,
        description=(
            f"rows unaccounted for on {', '.join(unaccounted)}"
            if unaccounted
            else "every landed row is staged, quarantined or a dropped duplicate"
        ),
        metadata={"by_day": by_day},
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
) -> Iterator[dg.AssetCheckResult]:
    """Record the results (and `recorded`: results kept in dq.results that are no check of
    their own) and yield one check result per rule; `started`: when computing them began."""
    record(context, warehouse, [*recorded, *results])
    yield from check_results(results, time.perf_counter() - started)


def check_results(results: list[quality.Result], seconds: float) -> Iterator[dg.AssetCheckResult]:
    """One AssetCheckResult per rule over the run's days; `checks_seconds` is the time all the
    asset's checks took together (reading, validating, recording)."""
    by_rule: dict[tuple[str, str], list[quality.Result]] = {}
    for r in results:
        by_rule.setdefault((r.table, r.rule_id), []).append(r)
    for (table, rule_id), days in by_rule.items():
        first = days[0]
        checked, failed = sum(r.checked for r in days), sum(r.failed for r in days)
        failing = [r for r in days if not r.passed]
        metadata: dict = {
            "severity": first.severity,
            "checked": checked,
            "failed": failed,
            "failed_pct": round(100.0 * failed / checked, 4) if checked else 0.0,
            "sample": dg.MetadataValue.json(next((r.sample for r in days if r.sample), [])),
            "checks_seconds": round(seconds, 3),
        }
        if first.tolerance:
            metadata["tolerance_pct"] = 100.0 * first.tolerance
        if first.quarantined is not None:
            metadata["quarantined"] = sum(r.quarantined or 0 for r in days)
        if len(days) > 1:
            metadata["by_day"] = {
                r.day.isoformat(): {"checked": r.checked, "failed": r.failed, "passed": r.passed}
                for r in days
            }
        yield dg.AssetCheckResult(
            check_name=rule_id,
            asset_key=table.split("/"),
            passed=not failing,
            severity=SEVERITY[first.severity],
            description=(
                f"{first.description}: {failed:,} of {checked:,} rows fail"
                + (f" on {', '.join(r.day.isoformat() for r in failing)}" if failing else "")
                + _by_group(days)
            ),
            metadata=metadata,
        )


def _by_group(days: list[quality.Result]) -> str:
    """' (by currency: USD 67, JPY 3)' for a rule reported per group that failed rows."""
    group = days[0].group_by
    counts: dict = {}
    for r in days if group else ():
        for row in r.sample:
            counts[row[group]] = counts.get(row[group], 0) + row["rows"]
    listed = ", ".join(f"{value} {n:,}" for value, n in counts.items())
    return f" (by {group}: {listed})" if listed else ""
