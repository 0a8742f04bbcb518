"""Asset factories: one per layer, so adding a table is a few declarative lines in its domain.

Assets are thin: they wire lake/warehouse I/O and record metadata; the logic lives in `model/`.
Each asset processes every day of its run (one partition, or a range backfilled as one run).
"""

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import dagster as dg
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bank_assets.builders import catalog
from bank_assets.builders.checks import (
    check_specs,
    keys_loaded,
    report,
    rows_accounted_for,
    staging_results,
    validate_days,
    warehouse_results,
)
from bank_assets.builders.landing import landing_spec
from bank_assets.builders.metadata import day_figures, record_days, table_figures
from bank_assets.builders.partitions import daily, partition_days, single_run
from bank_assets.io.lake import Lake
from bank_assets.io.spark.tables import (
    copy_to_warehouse,
    count_rows,
    interpreted,
    land_raw,
    read_earlier,
    read_raw,
    read_table,
    staged_before,
    table_rows,
    value_counts,
    write_days,
    write_table,
)
from bank_assets.model import quality, staging
from bank_assets.model.dimensions import KEY_READS
from bank_assets.model.sources import SOURCES, SourceTable
from bank_assets.model.tables import TABLES
from bank_assets.resources import LakeResource, SparkResource, WarehouseResource

WAREHOUSE_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
# Staged tables that other tables' rules read on the same day (quality.reads, e.g. fx_rates for
# the EUR limits of staged/transactions) are landed and staged first in a run, so those rules
# find them. An ordering, not a dependency: a failed fx_rates file must not stop the postings.
READ_BY_RULES = {other for table in quality.CATALOGUE for other in quality.reads(table)}


# Reference dimensions need no Spark: they run first, while the session starts (resources.py);
# then the landings, as a small source's needs no Spark either (tables.land_raw).
FIRST_OF_ALL = {"dagster/priority": "3"}
LANDINGS_FIRST = {"dagster/priority": "2"}


def _first_if_read(name: str) -> dict[str, str]:
    return {"dagster/priority": "1"} if f"staged/{name}" in READ_BY_RULES else {}


def raw_asset(source: SourceTable) -> dg.AssetsDefinition:
    """Landing files -> raw Parquet, as landed (all text) plus lineage; nothing dropped."""

    @dg.asset(
        key=["raw", source.name],
        deps=[dg.AssetKey(["landing", source.name])],  # the observed landing (landing.py)
        group_name="raw",
        op_tags=LANDINGS_FIRST,
        kinds={"spark", "s3", "parquet"},
        partitions_def=daily,
        backfill_policy=single_run,
        check_specs=check_specs(f"raw/{source.name}", quality.CARDS_MASKED),
        **catalog.raw(source),
        description=(
            f"Raw {source.name}: the landed {source.file_format.upper()} files as Parquet, every "
            f"column as text, plus lineage (file, line, landing time). Grain: one row per landed "
            f"line ({source.grain}); lines that cannot be parsed are kept with the reason. Card "
            f"numbers are masked as landed (first 6 / last 4 digits), counted per day."
        ),
    )
    def _raw(
        context: dg.AssetExecutionContext,
        spark: SparkResource,
        lake: LakeResource,
        warehouse: WarehouseResource,  # also holds the run's day locks (resources.py)
    ):
        figures, rows, masked = {}, {}, {}
        for day in partition_days(context):
            started = time.perf_counter()
            # a day without a (valid) manifest is not processed; the files must be the listed ones
            manifest = lake.lake.manifest_table(day, source.name)
            written, files = land_raw(
                lambda: spark.session,  # a small source lands without it (tables.land_raw)
                lake.lake,
                source.name,
                day,
                source.file_format,
                source.raw_schema(),
                manifest=manifest,
                snapshot=source.snapshot,
                split_bytes=lake.landing_split_bytes,
            )
            rows[day], masked[day] = written.rows, written.cards_masked
            figures[day] = day_figures(
                written.rows,
                time.perf_counter() - started,
                written.bytes,
                manifest_rows=manifest["rows"],
                cards_masked=sum(written.cards_masked.values()),
            )
            context.log.info(
                f"{source.name} {day}: {written.rows} rows from {len(files)} files, "
                f"{sum(written.cards_masked.values())} card number(s) masked"
            )
        record_days(context, ["raw", source.name], figures)
        yield dg.MaterializeResult(
            metadata=table_figures(table_rows(lake.lake, "raw", source.name))
        )
        # Masked card numbers: a warn check, kept in dq.results, and a rule_warning alert.
        results = [
            quality.cards_masked(f"raw/{source.name}", day, rows[day], by_file)
            for day, by_file in masked.items()
        ]
        yield from report(context, warehouse.warehouse, results, time.perf_counter())

    return _raw


def staged_assets(spec: staging.StagingSpec) -> dg.AssetsDefinition:
    """Raw -> staged (typed, UTC, deduplicated) and quarantine (rule, reason, raw payload)."""
    name = spec.source.name

    @dg.multi_asset(
        name=f"stage_{name}",
        specs=_staged_specs(spec),
        op_tags=_first_if_read(name),
        check_specs=check_specs(f"staged/{name}", quality.ROWS_ACCOUNTED_FOR),
        partitions_def=daily,
        backfill_policy=single_run,
    )
    def _stage(
        context: dg.AssetExecutionContext,
        spark: SparkResource,
        lake: LakeResource,
        warehouse: WarehouseResource,
    ):
        days = _stage_days(spark.session, lake.lake, spec, partition_days(context))
        for day, staged in days.items():
            context.log.info(_described(name, day, staged.outcome))
        yield from _staged_materializations(context, lake.lake, name, days)
        checks_started = time.perf_counter()
        outcomes = {day: staged.outcome for day, staged in days.items()}
        checked = validate_days(
            lake.lake, f"staged/{name}", list(days), {d: o.rules for d, o in outcomes.items()}
        )
        recorded = [r for day, o in outcomes.items() for r in staging_results(spec, day, o)]
        yield from report(context, warehouse.warehouse, checked, checks_started, recorded)
        yield from rows_accounted_for(context, f"staged/{name}", outcomes)

    return _stage


def _staged_specs(spec: staging.StagingSpec) -> list[dg.AssetSpec]:
    """staged/<name> and quarantine/<name>, both written from raw/<name> in one pass."""
    name, source = spec.source.name, spec.source
    catalogued = {"staged": catalog.staged(spec), "quarantine": catalog.quarantine(name)}
    described = {
        "staged": f"Staged {name}: typed, timestamps in UTC, exact duplicates dropped. "
        f"Grain: {source.grain}, unique {source.key}.",
        "quarantine": f"Quarantined {name}: landed rows that failed a rule, with rule id, reason, "
        "source file and line, and the raw payload. Grain: one row per quarantined landed row.",
    }
    return [
        dg.AssetSpec(
            [zone, name],
            deps=[dg.AssetKey(["raw", name])],
            group_name=zone,
            kinds={"spark", "parquet"},
            description=description,
            **catalogued[zone],
        )
        for zone, description in described.items()
    ]


@dataclass(frozen=True)
class _StagedDay:
    outcome: staging.Outcome
    staged_bytes: int
    quarantined_bytes: int
    seconds: float  # staging the day (one pass writes both tables; a range's pass: its share)


def _stage_days(
    spark: SparkSession, lake: Lake, spec: staging.StagingSpec, days: Sequence[date]
) -> dict[date, _StagedDay]:
    """The run's days of raw/<name> classified and written to staged/ and quarantine/.

    A table with a lookback stages its days one after the other, so that a day sees the keys
    its earlier days staged (partition_days gives them in order); the others (every source but
    the postings) stage all the run's days in one pass, one Spark job for a range."""
    if spec.lookback_days:
        return {day: _stage_day(spark, lake, spec, day) for day in days}
    return _stage_pass(spark, lake, spec, days)


def _stage_day(spark: SparkSession, lake: Lake, spec: staging.StagingSpec, day: date) -> _StagedDay:
    return _stage_pass(spark, lake, spec, [day])[day]


# The routing value of a row in a staging pass: its day and disposition.
_ROUTE = "_route"


def _stage_pass(
    spark: SparkSession, lake: Lake, spec: staging.StagingSpec, days: Sequence[date]
) -> dict[date, _StagedDay]:
    """Days of raw/<name> classified and written to staged/ and quarantine/ in one Spark job,
    with what became of each day's rows (counted from what was written, so the reconciliation
    is a real check)."""
    started = time.perf_counter()
    name, key, lookback = spec.source.name, spec.source.key, spec.lookback_days
    disposed, dropped, routes = [], {}, {}
    for day in days:
        earlier = staged_before(lake, name, day, key, lookback) if lookback else {}
        raw, repeats = read_raw(spark, lake, name, day, key, also=list(earlier))
        classified, dropped[day] = staging.classify(raw, repeats, spec, day, earlier)
        route = F.concat(F.lit(f"{day}/"), F.col("_disposition")).alias(_ROUTE)
        disposed.append(staging.dispose(classified, spec, day).select("*", route))
        routes[f"{day}/{staging.STAGED}"] = ("staged", name, day, staging.staged_columns(spec))
        routes[f"{day}/{staging.QUARANTINED}"] = (
            "quarantine",
            name,
            day,
            staging.QUARANTINE_COLUMNS,
        )
    landed = {day: count_rows(lake, "raw", name, day) for day in days}
    with interpreted(spark, sum(landed.values())):  # a small source: no codegen
        written = write_days(functools.reduce(DataFrame.union, disposed), lake, _ROUTE, routes)
    share = (time.perf_counter() - started) / len(days)
    out = {}
    for day in days:
        good, bad = written[f"{day}/{staging.STAGED}"], written[f"{day}/{staging.QUARANTINED}"]
        outcome = staging.Outcome(
            manifest=lake.read_manifest(day)["tables"][name]["rows"],
            landed=landed[day],
            staged=good.rows,
            quarantined=bad.rows,
            duplicates=sum(dropped[day].values()),
            rules=value_counts(lake, "quarantine", name, day, "rule_id"),
            redelivered=dropped[day].get("exact_redelivery", 0),
        )
        out[day] = _StagedDay(outcome, good.bytes, bad.bytes, share)
    return out


def _described(name: str, day: date, o: staging.Outcome) -> str:
    return (
        f"{name} {day}: landed {o.landed} (manifest {o.manifest}) = staged {o.staged} + "
        f"quarantined {o.quarantined} + duplicates dropped {o.duplicates} ({o.redelivered} "
        "re-delivered from earlier days)"
    )


def _staged_materializations(
    context: dg.AssetExecutionContext, lake: Lake, name: str, days: dict[date, _StagedDay]
) -> Iterator[dg.MaterializeResult]:
    """The run's staged/<name> and quarantine/<name> materializations, each day's figures
    against its partition."""
    staged, quarantined = {}, {}
    for day, s in days.items():
        o = s.outcome
        staged[day] = day_figures(
            o.staged,
            s.seconds,
            s.staged_bytes,
            duplicates_dropped=o.duplicates,
            redelivered=o.redelivered,
            quarantined=o.quarantined,
            rule_failures=o.rules,
        )
        quarantined[day] = day_figures(
            o.quarantined, s.seconds, s.quarantined_bytes, rule_failures=o.rules
        )
    for zone, figures in (("staged", staged), ("quarantine", quarantined)):
        record_days(context, [zone, name], figures)
        yield dg.MaterializeResult(
            asset_key=[zone, name], metadata=table_figures(table_rows(lake, zone, name))
        )


@dataclass(frozen=True)
class Earlier:
    """An input of the `days` days before the partition's day: a few `columns` of a lake table
    that the asset also reads for the day itself (so no dependency of its own)."""

    zone: str
    table: str
    columns: Sequence[str]
    days: int


# (zone, table) of a lake table read for the same day, or (zone, table, columns) for a few of
# its columns (the data source then reads only those), or the days before (Earlier).
Input = tuple[str, str] | tuple[str, str, Sequence[str]] | Earlier


def keys_of(dimension: str) -> Input:
    """The day's rows of a curated dimension, only the columns a key lookup reads
    (dimensions.KEY_READS): not the wide rows, and on the driver when those are small."""
    return ("curated", dimension, KEY_READS[dimension])


def _read(spark, lake, i: Input, day) -> DataFrame:
    if isinstance(i, Earlier):
        return read_earlier(spark, lake, i.zone, i.table, day, i.days, i.columns)
    return read_table(spark, lake, *i[:2], day, *i[2:])


def curated_asset(
    name: str,
    inputs: Sequence[Input],
    transform: Callable[..., DataFrame],
    grain: str,
    deps: Sequence[Sequence[str]] = (),
) -> dg.AssetsDefinition:
    """Lake tables of the day -> a curated star-schema table, built by a pure function in model/:
    `transform(*input_frames, day)`, or `transform(spark, day)` for a table without inputs.
    `deps` adds upstream assets the transform does not read (ordering only)."""
    upstream = list(dict.fromkeys(tuple(i[:2]) for i in inputs if not isinstance(i, Earlier)))
    specs = check_specs(f"curated/{name}")

    @dg.asset(
        key=["curated", name],
        deps=[dg.AssetKey(list(i)) for i in upstream] + [dg.AssetKey(list(d)) for d in deps],
        group_name="curated",
        kinds={"spark", "parquet"},
        partitions_def=daily,
        backfill_policy=single_run,
        description=f"Curated {name} (Parquet in the lake). Grain: {grain}.",
        check_specs=specs,
        **catalog.curated(name),
    )
    def _curated(
        context: dg.AssetExecutionContext,
        spark: SparkResource,
        lake: LakeResource,
        warehouse: WarehouseResource,
    ):
        figures = {}
        for day in partition_days(context):
            started = time.perf_counter()
            frames = [_read(spark.session, lake.lake, i, day) for i in inputs]
            df = transform(*frames, day) if inputs else transform(spark.session, day)
            written = write_table(df, lake.lake, "curated", name, day)
            figures[day] = day_figures(written.rows, time.perf_counter() - started, written.bytes)
        record_days(context, ["curated", name], figures)
        yield dg.MaterializeResult(metadata=table_figures(table_rows(lake.lake, "curated", name)))
        if specs:
            checks_started = time.perf_counter()
            results = validate_days(lake.lake, f"curated/{name}", list(figures))
            yield from report(context, warehouse.warehouse, results, checks_started)

    return _curated


def reference_asset(table: str, rows: Callable[[], list[dict]]) -> dg.AssetsDefinition:
    """A small reference dimension kept in code (model/reference.py) -> PostgreSQL, upserted."""
    target = TABLES[table]
    asset = f"warehouse/{target.name}"

    key = ["warehouse", target.name]

    @dg.asset(
        key=key,
        group_name="warehouse",
        kinds={"python", "postgres"},
        op_tags=FIRST_OF_ALL,
        check_specs=check_specs(asset, quality.KEYS_LOADED),
        partitions_def=daily,
        backfill_policy=single_run,
        retry_policy=WAREHOUSE_RETRY,
        description=(
            f"PostgreSQL {table}, from the reference data in bank_assets/model/reference.py "
            f"(upserted, so every day gives the same rows). Grain: {target.grain}."
        ),
        **catalog.warehouse(table),
    )
    def _reference(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        started, reference = time.perf_counter(), rows()
        count = warehouse.warehouse.upsert_rows(target, reference)
        days = partition_days(context)
        # one upsert serves every day of the run: each day shows its rows and a share of the time
        share = (time.perf_counter() - started) / len(days)
        record_days(context, key, dict.fromkeys(days, day_figures(count, share)))
        yield dg.MaterializeResult(metadata=table_figures(count))
        checks_started, keys = time.perf_counter(), [r[target.key[0]] for r in reference]
        results = [keys_loaded(warehouse.warehouse, asset, target, d, keys) for d in days]
        yield from report(context, warehouse.warehouse, results, checks_started)

    return _reference


def warehouse_asset(zone: str, name: str, table: str) -> dg.AssetsDefinition:
    """A lake table -> its PostgreSQL table, one atomic swap per day (see io/warehouse/loader.py).
    Checked after the load: replace_day tables hold exactly the lake's rows for the day, upserted
    ones every key of it, and the catalogue's rules hold for the table as loaded (SCD2)."""
    target = TABLES[table]
    key = ["warehouse", target.name if zone == "curated" else f"{zone}_{name}"]
    # what proves the day's rows arrived: their count (replace_day) or their keys (upsert)
    arrived = {"replace_day": quality.LOADED_EXACTLY, "upsert": quality.KEYS_LOADED}
    exact = (arrived[target.load],) if target.load in arrived else ()

    @dg.asset(
        key=key,
        deps=[
            dg.AssetKey([zone, name]),
            *(dg.AssetKey(["warehouse", r]) for r in target.references),
        ],
        group_name="warehouse",
        kinds={"spark", "postgres"},
        partitions_def=daily,
        backfill_policy=single_run,
        retry_policy=WAREHOUSE_RETRY,
        description=(
            f"PostgreSQL {table}, loaded from {zone}/{name} by COPY and swapped in atomically "
            f"per day ({target.load}). Grain: {target.grain}."
        ),
        check_specs=check_specs("/".join(key), *exact),
        **catalog.warehouse(table, zone, name),
    )
    def _warehouse(
        context: dg.AssetExecutionContext,
        spark: SparkResource,
        lake: LakeResource,
        warehouse: WarehouseResource,
    ):
        rows, figures = {}, {}
        for day in partition_days(context):
            started = time.perf_counter()
            loaded = warehouse.warehouse.load(
                lambda stage, day=day: copy_to_warehouse(
                    spark.session,
                    lake.lake,
                    zone,
                    name,
                    day,
                    warehouse.warehouse.dsn,
                    stage,
                    warehouse.warehouse.copy_connections,
                ),
                target,
                day,
            )
            rows[day] = loaded.rows
            figures[day] = day_figures(loaded.rows, time.perf_counter() - started)
            context.log.info(f"{table} {day}: {loaded.rows} rows in {loaded.seconds:.1f}s")
        record_days(context, key, figures)
        yield dg.MaterializeResult(metadata=table_figures(warehouse.warehouse.count(target)))
        checks_started = time.perf_counter()
        results = warehouse_results(
            warehouse.warehouse, lake.lake, "/".join(key), target, zone, name, rows
        )
        if results:
            yield from report(context, warehouse.warehouse, results, checks_started)

    return _warehouse


def source_assets(name: str) -> list[dg.AssetsDefinition | dg.AssetSpec]:
    """Everything a landed source gets: its observed landing, raw, staged + quarantine, and
    quarantine in PostgreSQL."""
    return [
        landing_spec(name),
        raw_asset(SOURCES[name]),
        staged_assets(staging.STAGING[name]),
        warehouse_asset("quarantine", name, f"quarantine.{name}"),
    ]


def star_assets(
    name: str,
    inputs: Sequence[Input],
    transform: Callable[..., DataFrame],
    grain: str,
    deps: Sequence[Sequence[str]] = (),
) -> list[dg.AssetsDefinition]:
    """A star-schema table in both places: curated Parquet, then `dw.<name>` in PostgreSQL."""
    return [
        curated_asset(name, inputs, transform, grain, deps),
        warehouse_asset("curated", name, f"dw.{name}"),
    ]
