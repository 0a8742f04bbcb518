"""`bank-assets bench --floor`: what plain Spark itself needs for the transaction path.

After a bench run, in a fresh process (it pays Spark's start as a user's run does), the work of
raw/transactions, stage_transactions (staged + quarantine), curated/fact_transactions and
curated/fact_fraudes is redone on the bench's local lake by Spark alone: its native CSV reader
and Parquet reader and writer, the model's own rules (model/staging.py, model/facts.py,
imported), the dimensions read natively from the curated Parquet the run wrote. No Dagster, no
asset checks, no Python data sources, no PostgreSQL. Each step is timed twice: COLD (the first
pass in the process: planning, code generation, JIT) and WARM (the same passes again, into
another folder). The outputs' row counts must equal the pipeline's for the day (its lake's
Parquet footers), so the reference did the same work; it exits 1 and says which differ.

    python -m bank_assets.cli.floor --day 2026-11-20   (BANK_ASSETS_HOME: the bench's home)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from bank_assets.io.lake import Lake, day_path
from bank_assets.io.spark.tables import count_rows, read_earlier, value_counts
from bank_assets.model import cards, facts, fraud, staging
from bank_assets.model.dimensions import EARLIER_DAYS
from bank_assets.model.sources import TRANSACTIONS
from bank_assets.settings import Settings

SPEC = staging.STAGING["transactions"]
# floor step -> what it does, and the bench step (its label in the bench's "steps") doing it
STEPS = {
    "raw": ("landing CSV -> raw Parquet", "raw/transactions"),
    "staged": ("raw -> staged + quarantine", "stage_transactions"),
    "fact": ("staged + dimensions -> fact", "curated/fact_transactions"),
    "fraudes": ("fact -> fact_fraudes", "curated/fact_fraudes"),
}
PASSES = ("cold", "warm")


def landed(spark: SparkSession, lake: Lake, day: date) -> DataFrame:
    """The day's landing CSV files as raw rows, by Spark's CSV reader (every column text).

    What differs from the landing data source (io/spark/lake_source.py), none of it read by a
    rule that decides a row's disposition: `_source_file` is the file's URI, not its lake path;
    `_line` is a row id increasing in file order (monotonically_increasing_id), not the physical
    line; `_error` names no field counts; card numbers are screened with the model's PREFILTER
    (`_card_candidates`) but not masked: the Luhn and IBAN decisions over the few candidates
    are Python. The screen runs once over the row's fields joined by a separator (every field
    that matches alone still matches; Java's regex per field cost ~3 s more at 1M, warm) where
    the landing screens each column with RE2.
    As landed: an empty field is '' (Spark reads it as NULL), a malformed line's fields NULL."""
    columns = list(TRANSACTIONS.columns)
    schema = StructType([StructField(c, StringType()) for c in [*columns, "_raw_line"]])
    rows = (
        spark.read.schema(schema)
        .option("header", True)
        .option("escape", '"')  # RFC 4180 quoting, as the landing files are written
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_raw_line")
        .option("pathGlobFilter", f"*.{TRANSACTIONS.file_format}")
        .csv(lake.abspath(day_path("landing", TRANSACTIONS.name, day)))
    )
    bad = F.col("_raw_line").isNotNull()
    screened = F.concat_ws("\u001f", *columns, "_raw_line").rlike(cards.PREFILTER)
    return rows.select(
        *[F.when(~bad, F.coalesce(F.col(c), F.lit(""))).alias(c) for c in columns],
        F.col("_metadata.file_path").alias("_source_file"),
        F.monotonically_increasing_id().alias("_line"),
        F.col("_metadata.file_modification_time").alias("_landed_at"),
        "_raw_line",
        F.when(bad, F.lit(f"expected {len(columns)} fields")).alias("_error"),
        screened.alias("_card_candidates"),
    )


def stage(spark: SparkSession, raw: str, day: date, out: str) -> dict[str, int]:
    """raw -> staged + quarantine, as builders/assets.py `_stage_pass` stages a day: the repeated
    keys (a Spark aggregate, as for a day of over DRIVER_KEY_ROWS), their rows, `classify` and
    `dispose`, one write routed by disposition (Spark's partitionBy: each folder has every
    column, the other table's all NULL; the few exact duplicates get a folder too, not read).
    The bench's first day: no earlier day staged, so no keys staged before (`earlier` empty).
    The rows dropped per rule."""
    key = SPEC.source.key
    rows = spark.read.parquet(raw)
    repeated = staging.repeated_keys(rows.select(key), key)
    repeats = rows.where(F.col(key).isin(*repeated)) if repeated else None
    classified, dropped = staging.classify(rows, repeats, SPEC, day, {})
    staging.dispose(classified, SPEC, day).write.partitionBy("_disposition").parquet(out)
    return dropped


def lake_day(spark: SparkSession, lake: Lake, zone: str, table: str, day: date) -> DataFrame:
    """A day of a table the bench run wrote, by Spark's Parquet reader."""
    path = lake.abspath(day_path(zone, table, day))
    return spark.read.option("pathGlobFilter", "*.parquet").parquet(path)


def fact(spark: SparkSession, lake: Lake, staged: str, day: date, out: str) -> None:
    """staged + dimensions -> fact_transactions, with the inputs defs/transactions.py gives it
    (the earlier days' dimensions by read_earlier: none before the bench's first day, so the
    empty local relation the asset gets, no Python data source)."""
    postings = spark.read.parquet(f"{staged}/_disposition={staging.STAGED}")
    postings = postings.select(*staging.staged_columns(SPEC))

    def earlier(table: str, reads: tuple[str, ...]) -> DataFrame:
        return read_earlier(
            spark, lake, "curated", table, day, EARLIER_DAYS, (*reads, "valid_from")
        )

    facts.fact_transactions(
        postings,
        postings.select(*fraud.COLUMNS),
        lake_day(spark, lake, "curated", "dim_accounts", day),
        earlier("dim_accounts", facts.ACCOUNT_READS),
        lake_day(spark, lake, "curated", "dim_clients", day),
        earlier("dim_clients", facts.CLIENT_READS),
        lake_day(spark, lake, "curated", "dim_products", day),
        lake_day(spark, lake, "curated", "dim_merchants", day),
        lake_day(spark, lake, "staged", "fx_rates", day),
        day,
    ).write.parquet(out)


def fraudes(spark: SparkSession, fact_path: str, out: str) -> None:
    facts.fact_fraudes(spark.read.parquet(fact_path).select(*facts.FRAUDES_READS)).write.parquet(
        out
    )


def rows_in(path: Path) -> int:
    """Rows of the Parquet files under `path`, from their footers."""
    return ds.dataset(path, format="parquet").count_rows() if path.exists() else 0


def one_pass(spark: SparkSession, lake: Lake, day: date, folder: Path) -> dict[str, dict]:
    """The four steps into `folder`: per step its seconds and the submission window of its
    Spark jobs; the rows of its outputs (counted afterwards, from the footers)."""
    paths = {s: str(folder / s) for s in STEPS}
    steps: dict[str, dict] = {}

    def timed(step: str, work) -> object:
        started, at = time.perf_counter(), time.time()
        out = work()
        steps[step] = {
            "seconds": round(time.perf_counter() - started, 3),
            "window": (at, time.time()),
        }
        return out

    timed("raw", lambda: landed(spark, lake, day).write.parquet(paths["raw"]))
    dropped = timed("staged", lambda: stage(spark, paths["raw"], day, paths["staged"]))
    timed("fact", lambda: fact(spark, lake, paths["staged"], day, paths["fact"]))
    timed("fraudes", lambda: fraudes(spark, paths["fact"], paths["fraudes"]))
    staged = folder / "staged"
    steps["raw"]["rows"] = {"raw": rows_in(folder / "raw")}
    steps["staged"]["rows"] = {
        "staged": rows_in(staged / f"_disposition={staging.STAGED}"),
        "quarantined": rows_in(staged / f"_disposition={staging.QUARANTINED}"),
        "duplicates": sum(dropped.values()),
    }
    steps["staged"]["rules"] = quarantine_rules(staged / f"_disposition={staging.QUARANTINED}")
    steps["fact"]["rows"] = {"fact_transactions": rows_in(folder / "fact")}
    steps["fraudes"]["rows"] = {"fact_fraudes": rows_in(folder / "fraudes")}
    return steps


def quarantine_rules(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    counts = ds.dataset(path, format="parquet").to_table(columns=["rule_id"])["rule_id"]
    return dict(sorted((c["values"], c["counts"]) for c in counts.value_counts().to_pylist()))


def pipeline_rows(lake: Lake, day: date) -> dict[str, int | dict]:
    """The same outputs' rows as the bench run wrote them (its lake's footers)."""
    return {
        "raw": count_rows(lake, "raw", "transactions", day),
        "staged": count_rows(lake, "staged", "transactions", day),
        "quarantined": count_rows(lake, "quarantine", "transactions", day),
        "rules": value_counts(lake, "quarantine", "transactions", day, "rule_id"),
        "fact_transactions": count_rows(lake, "curated", "fact_transactions", day),
        "fact_fraudes": count_rows(lake, "curated", "fact_fraudes", day),
    }


def differences(floor: dict[str, int | dict], pipeline: dict[str, int | dict]) -> list[str]:
    """What the floor's rows (of one pass) and the pipeline's disagree on, and whether the
    floor's landed rows are all accounted for (staged + quarantined + dropped duplicates)."""
    differs = [
        f"{name}: floor {floor.get(name)}, pipeline {expected}"
        for name, expected in pipeline.items()
        if floor.get(name) != expected
    ]
    disposed = floor["staged"] + floor["quarantined"] + floor["duplicates"]
    if disposed != floor["raw"]:
        differs.append(f"landed {floor['raw']} != staged + quarantined + duplicates {disposed}")
    return differs


def jobs_between(jobs: list[dict], window: tuple[float, float]) -> int:
    return sum(window[0] - 0.001 <= j["submitted"] <= window[1] for j in jobs)


def measure(settings: Settings, day: date) -> dict:
    """Start Spark, run the cold and the warm pass, compare their rows with the pipeline's."""
    from bank_assets.io.spark.session import get_session, spark_jobs

    lake = Lake(settings.lake_config)
    if lake.config.is_s3:
        raise SystemExit("the floor reads a local lake (the bench's): BANK_ASSETS_LAKE_URL is S3")
    root = Path(tempfile.mkdtemp(prefix="floor-", dir=settings.home))
    try:
        started = time.perf_counter()
        spark = get_session(settings.spark_properties(), class_cache=settings.jvm_cache)
        session = time.perf_counter() - started
        # partitionBy sorts each task's rows by disposition before writing (one writer open at
        # a time); with concurrent writers it routes them unsorted, as the lake's writer does:
        # staging 1M postings 23 -> 15 s warm
        spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", "3")
        passes = {p: one_pass(spark, lake, day, root / p) for p in PASSES}
        jobs = spark_jobs()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    expected = pipeline_rows(lake, day)
    steps, differs = {}, []
    for step in STEPS:
        cold, warm = passes["cold"][step], passes["warm"][step]
        steps[step] = {
            "cold": cold["seconds"],
            "warm": warm["seconds"],
            "jobs": jobs_between(jobs, cold["window"]),
            "rows": cold["rows"],
        }
    for p, figures in passes.items():
        got = {k: v for s in figures.values() for k, v in s["rows"].items()}
        got["rules"] = figures["staged"]["rules"]
        differs += [f"{p} pass: {d}" for d in differences(got, expected)]
    return {
        "day": day.isoformat(),
        "session_seconds": round(session, 3),
        "steps": steps,
        "cold_seconds": round(session + sum(s["cold"] for s in steps.values()), 3),
        "warm_seconds": round(sum(s["warm"] for s in steps.values()), 3),
        "pipeline_rows": expected,
        "agreed": not differs,
        "differs": differs,
    }


def table(floor: dict, pipeline_steps: dict[str, dict] | None = None) -> list[str]:
    """The floor's figures as lines, next to the bench's own steps' seconds when given."""
    pipeline_steps = pipeline_steps or {}
    lines = [
        f"\nfloor: the transaction path in plain Spark (native CSV/Parquet, the model's rules), "
        f"{floor['day']}",
        f"{'step':<32}{'cold s':>9}{'warm s':>9}{'jobs':>6}  {'pipeline step':<28}{'s':>7}  rows",
        f"{'Spark session start':<32}{floor['session_seconds']:>9.1f}",
    ]
    for step, (label, bench_step) in STEPS.items():
        s = floor["steps"][step]
        ran = pipeline_steps.get(bench_step, {}).get("seconds")
        rows = ", ".join(f"{k} {v:,}" for k, v in s["rows"].items())
        lines.append(
            f"{label:<32}{s['cold']:>9.1f}{s['warm']:>9.1f}{s['jobs']:>6}  {bench_step:<28}"
            f"{'' if ran is None else f'{ran:.1f}':>7}  {rows}"
        )
    lines.append(
        f"{'total':<32}{floor['cold_seconds']:>9.1f}{floor['warm_seconds']:>9.1f}"
        "        (cold: with the session start)"
    )
    load = pipeline_steps.get("warehouse/fact_transactions", {}).get("seconds")
    if load is not None:
        lines.append(f"PostgreSQL: warehouse/fact_transactions {load:.1f}s in the bench run")
    lines.append(
        "row counts agree with the pipeline's"
        if floor["agreed"]
        else "row counts DIFFER from the pipeline's: " + "; ".join(floor["differs"])
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bank_assets.cli.floor", description=__doc__)
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    args = parser.parse_args(argv)
    floor = measure(Settings.from_env(), args.day)
    print("\n".join(table(floor)))
    print(json.dumps(floor), flush=True)  # the last line: what `bench --floor` reads
    if not floor["agreed"]:
        sys.stderr.write("floor: " + "; ".join(floor["differs"]) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
