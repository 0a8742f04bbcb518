"""`bank-assets`: simulate landing days, run the pipeline, inspect the warehouse, benchmark.

bank-assets simulate --date 2026-11-20 [--days N] [--transactions N] [--seed S]
bank-assets demo [--date D] [--transactions N]      simulate + materialize one day
bank-assets run --date D [--end D2]                 materialize a day (or range, one run)
bank-assets status [--json]                         warehouse tables: rows per partition
bank-assets query --list                            the analyst questions
bank-assets query NAME [--date D]                   answer one for a day
bank-assets dq [--date D] [--json]                  data-quality checks and quarantine per table
bank-assets dictionary                              write docs/data_dictionary.md
bank-assets scan-cards [--include-landing]          raw card numbers in the lake / warehouse?
bank-assets bench --transactions N [--days D] [--json]
bank-assets dev                                     Dagster UI (webserver + daemon)
bank-assets stop                                    stop the embedded PostgreSQL server
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bank_assets.settings import PROJECT_ROOT, ConfigurationError, Settings

JOB = "daily_warehouse"


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def _progress(enabled: bool):
    from tqdm import tqdm

    bar = tqdm(desc="simulate", unit="step", disable=not enabled, leave=False)

    def step(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    return step, bar


# ---- environment ----------------------------------------------------------------------------


def prepare_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME with the project's dagster.yaml; instance storage in PostgreSQL.

    With no DAGSTER_PG_URL set, the embedded PostgreSQL server also holds the Dagster instance
    (database `dagster`, role bank_dagster), so the UI, the daemon and the CLI share runs and
    materializations.
    """
    home = settings.dagster_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    (home / "dagster.yaml").chmod(0o600)
    os.environ["DAGSTER_HOME"] = str(home)
    # as the Dagster role, which reaches its own database only
    os.environ["DAGSTER_PG_URL"] = settings.dagster_url()
    return home


def redacted(dsn: str) -> str:
    """A DSN fit to print: the password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@]+@", r"\1***@", dsn)


def run_days(instance, start: date, end: date, log_level: str = "INFO"):
    """Materialize every asset for days start..end as one run (single-run backfill).

    A failed run writes its failure alerts as the daemon's sensor does for its runs (dq.alerts
    and the webhook), then exits with what failed."""
    from bank_assets.definitions import defs

    job = defs().resolve_job_def(JOB)
    config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if start == end:
        result = job.execute_in_process(
            run_config=config,
            instance=instance,
            partition_key=start.isoformat(),
            raise_on_error=False,
        )
    else:
        tags = {
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        }
        result = job.execute_in_process(
            run_config=config, instance=instance, tags=tags, raise_on_error=False
        )
    if not result.success:
        raise SystemExit(failed_run(instance, result))
    return result


def failed_run(instance, result) -> str:
    """Write the failure alerts of a failed in-process run; what to tell the user."""
    import dagster as dg

    from bank_assets.builders.alerts import alert_failed_run
    from bank_assets.io.alerts import AlertDeliveryError
    from bank_assets.io.warehouse.loader import Warehouse, WarehouseError
    from bank_assets.resources import AlertsResource

    run = instance.get_run_by_id(result.run_id)
    failure = next(
        (e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE), None
    )
    steps = result.get_step_failure_events()
    errors = [f"{e.step_key}: {_root_cause(e.event_specific_data.error)}" for e in steps]
    if not errors and failure and failure.event_specific_data and failure.event_specific_data.error:
        errors.append(_root_cause(failure.event_specific_data.error))  # before any step
    message = failure.message if failure else "the run did not succeed"
    told = f"run {run.run_id} failed: " + ("; ".join(errors) or message)
    try:
        alert_failed_run(
            instance,
            run,
            message,
            [e.step_key for e in steps],
            Warehouse(Settings.from_env().dsn()),
            AlertsResource().webhook,
        )
    except (WarehouseError, AlertDeliveryError) as e:
        return f"{told}\nits failure alert was not delivered: {e}"
    return f"{told}\nfailure alert written to dq.alerts"


def _root_cause(error) -> str:
    """The message of the error a Dagster error info wraps (e.g. the resource's own error), on
    one line."""
    while error.cause is not None:
        error = error.cause
    return " ".join(error.message.split())


def checks_seconds(result) -> float:
    """Seconds the run's asset checks took: per asset, the `checks_seconds` its checks share."""
    per_asset: dict[str, float] = {}
    for evaluation in result.get_asset_check_evaluations():
        seconds = evaluation.metadata.get("checks_seconds")
        if seconds is not None:
            per_asset[evaluation.asset_key.to_user_string()] = seconds.value
    return sum(per_asset.values())


def asset_figures(result) -> dict[str, dict]:
    """Per asset: rows and seconds, from the run's materialization metadata."""
    figures = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in mat.metadata.items()}
        figures[mat.asset_key.to_user_string()] = {
            "rows": meta.get("dagster/row_count"),
            "seconds": meta.get("seconds"),
        }
    return figures


class PeakRss:
    """Peak resident memory of this process and its children (JVM, Python workers), sampled."""

    def __init__(self, interval: float = 0.2):
        import psutil

        self.proc, self.peak, self.interval = psutil.Process(), 0, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a child may exit while we look
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return round(self.peak / 2**20, 1)


# ---- commands -------------------------------------------------------------------------------


def cmd_simulate(args) -> int:
    from bank_assets.io.lake import Lake
    from bank_assets.simulator import simulate

    settings = Settings.from_env()
    lake = Lake(settings.lake_config)
    step, bar = _progress(sys.stderr.isatty())
    started = time.perf_counter()
    results = simulate(
        lake, args.date, args.days, args.transactions, args.seed, args.defect_scale, step
    )
    bar.close()
    for r in results:
        tables = r.manifest["tables"]
        counts = ", ".join(f"{t} {v['rows']:,}" for t, v in tables.items())
        print(f"landed {r.day}: {counts}")
    print(f"in {time.perf_counter() - started:.1f}s under {lake.uri('landing')}")
    return 0


def cmd_backfill(args) -> int:
    """Days start..end as one run in the Dagster instance (it shows in the UI)."""
    import dagster as dg

    from bank_assets.builders.partitions import partition_exists
    from bank_assets.io.lake import Lake

    start, end = args.start, args.end or args.start
    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    future = [d.isoformat() for d in days if not partition_exists(d)]
    if future:
        raise SystemExit(f"not partitions (yet): {', '.join(future)}; a day is one once it is over")
    settings = Settings.from_env()
    landed = set(Lake(settings.lake_config).manifest_days())
    missing = [d.isoformat() for d in days if d not in landed]
    if missing:
        raise SystemExit(
            f"not landed (no manifest), nothing was run: {', '.join(missing)}. "
            "Land them first, e.g. `bank-assets simulate --date DAY`."
        )
    prepare_dagster_home(settings)
    with dg.DagsterInstance.get() as instance:
        started = time.perf_counter()
        result = run_days(instance, start, end)
    print(
        f"run {result.run_id}: {start}..{end} materialized in {time.perf_counter() - started:.1f}s"
    )
    return 0


def cmd_demo(args) -> int:
    import dagster as dg

    from bank_assets.io.lake import Lake
    from bank_assets.io.warehouse.loader import Warehouse
    from bank_assets.simulator import simulate

    settings = Settings.from_env()
    lake = Lake(settings.lake_config)
    print(f"simulating {args.transactions:,} transactions for {args.date} ...")
    t0 = time.perf_counter()
    simulate(lake, args.date, 1, args.transactions, args.seed)
    t1 = time.perf_counter()
    prepare_dagster_home(settings)
    print("materializing every asset of the partition (Spark, then PostgreSQL) ...")
    with dg.DagsterInstance.get() as instance:
        result = run_days(instance, args.date, args.date, log_level="WARNING")
    t2 = time.perf_counter()
    figures = asset_figures(result)
    print(f"\n{'asset':<34}{'rows':>12}{'seconds':>10}")
    for key in sorted(figures):
        f = figures[key]
        print(f"{key:<34}{f['rows'] or 0:>12,}{f['seconds'] or 0:>10.1f}")
    status = Warehouse(settings.dsn()).status()
    print(f"\n{'warehouse table':<34}{'rows':>12}  (of the day; whole table if not per day)")
    for name, t in status["tables"].items():
        rows = t["partitions"].get(args.date.isoformat(), 0) if t["partitions"] else t["rows"]
        print(f"{name:<34}{rows:>12,}")
    print(
        f"\nsimulated in {t1 - t0:.1f}s, materialized in {t2 - t1:.1f}s"
        f"\nlake:      {lake.uri('')}"
        f"\nwarehouse: {redacted(settings.dsn())}"
        f"\nUI:        make dev, then open http://localhost:3000 (asset graph, runs, metadata)"
        f"\nquality:   .venv/bin/bank-assets dq --date {args.date} (checks and quarantine)"
    )
    return 0


def cmd_status(args) -> int:
    from bank_assets.io.warehouse.loader import Warehouse

    status = Warehouse(Settings.from_env().dsn()).status()
    if args.json:
        print(json.dumps(status))
        return 0
    for name, t in status["tables"].items():
        days = ", ".join(f"{d}: {n:,}" for d, n in t["partitions"].items()) or "-"
        print(f"{name:<26}{t['rows']:>12,}  {days}")
    return 0


def cmd_query(args) -> int:
    from bank_assets.analyst import queries

    if args.list or not args.name:
        for name, question in queries.catalogue().items():
            print(f"{name:<34}{question}")
        return 0
    try:
        answer = queries.run(Settings.from_env().analyst_dsn(), args.name, args.date)
    except KeyError as e:
        print(e.args[0], file=sys.stderr)
        return 2
    print(f"{queries.catalogue()[args.name]}  [{args.date}]")
    print(queries.table(answer))
    return 0


def cmd_dq(args) -> int:
    """The `data_quality` analyst query for a day (sql/queries), from dq.results."""
    from bank_assets.analyst import queries
    from bank_assets.io.warehouse.loader import Warehouse

    settings = Settings.from_env()
    Warehouse(settings.dsn()).apply_ddl()  # dq.results exists even before the first run
    answer = queries.run(settings.analyst_dsn(), "data_quality", args.date)
    if args.json:
        print(json.dumps([dict(zip(answer.columns, r)) for r in answer.rows]))
        return 0
    if not answer.rows:
        print(f"no data-quality results for {args.date}: run the day first", file=sys.stderr)
        return 1
    print(f"{queries.catalogue()['data_quality']}  [{args.date}]")
    print(queries.table(answer))
    return 0


def cmd_scan_cards(args) -> int:
    """Raw card numbers anywhere the pipeline stores data (lib/card_scan.py): each finding on a
    line (place, row, the number masked) and exit 1, or a one-line summary and exit 0."""
    from bank_assets.io import card_scan
    from bank_assets.io.lake import Lake

    settings = Settings.from_env()
    lake, dsn = Lake(settings.lake_config), settings.dsn()
    scanned = card_scan.Scanned()
    found = 0
    sources = [card_scan.scan_lake(lake, scanned, args.include_landing)]
    sources.append(card_scan.scan_database(dsn, "warehouse", scanned))
    try:
        dagster_url = settings.dagster_url()
    except ConfigurationError:  # an external warehouse without DAGSTER_PG_URL: not ours to scan
        dagster_url = None
    dagster = card_scan.dagster_database(dsn, dagster_url)
    if dagster:
        sources.append(card_scan.scan_database(dagster, "dagster", scanned))
    for source in sources:
        for finding in source:
            print(finding)
            found += 1
    zones = [*card_scan.PIPELINE_ZONES, *(["landing"] if args.include_landing else [])]
    covered = (
        f"{scanned.files:,} lake files ({', '.join(zones)}) under {lake.uri('')}, "
        f"{scanned.columns:,} text columns in {' and '.join(scanned.databases)} "
        f"({redacted(dsn)}{', ' + redacted(dagster) if dagster else ''})"
    )
    if found:
        print(f"{found:,} raw card number(s) found, in {covered}", file=sys.stderr)
        return 1
    print(f"no raw card number in {covered}")
    return 0


def cmd_dictionary(args) -> int:
    from bank_assets.analyst.dictionary import markdown

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(Settings.from_env().dsn()))
    print(f"wrote {out}")
    return 0


def cmd_bench(args) -> int:
    import dagster as dg

    from bank_assets.io.lake import Lake
    from bank_assets.simulator import simulate

    home = Path(args.home or Settings.from_env().home / "bench").resolve()
    if (home / "postgres").exists():  # every bench starts from an empty lake and warehouse
        from bank_assets.io.warehouse.embedded import stop_embedded_postgres

        stop_embedded_postgres(home / "postgres")
    shutil.rmtree(home, ignore_errors=True)
    os.environ["BANK_ASSETS_HOME"] = str(home)
    os.environ.pop("BANK_ASSETS_LAKE_URL", None)
    settings = Settings.from_env()
    lake = Lake(settings.lake_config)
    start = args.date
    end = start + timedelta(days=args.days - 1)
    t0 = time.perf_counter()
    simulate(lake, start, args.days, args.transactions, args.seed)
    simulate_seconds = time.perf_counter() - t0
    settings.dsn()  # start the embedded server before timing the pipeline
    with PeakRss() as rss, dg.DagsterInstance.ephemeral() as instance:
        t1 = time.perf_counter()
        result = run_days(instance, start, end, log_level="WARNING")
        total = time.perf_counter() - t1
    if not settings.pg_dsn:  # the bench's own embedded server is not needed afterwards
        from bank_assets.io.warehouse.embedded import stop_embedded_postgres

        stop_embedded_postgres(settings.home / "postgres")
    figures = asset_figures(result)
    transactions = args.transactions * args.days
    report = {
        "transactions": transactions,
        "days": args.days,
        "simulate_seconds": round(simulate_seconds, 2),
        "total_seconds": round(total, 2),
        "checks_seconds": round(checks_seconds(result), 2),
        "transactions_per_second": round(transactions / total),
        "peak_rss_mb": rss.mb,
        "cpus": os.cpu_count(),
        "assets": figures,
    }
    for key in sorted(figures):
        f = figures[key]
        print(f"{key:<34}{f['rows'] or 0:>12,}{f['seconds'] or 0:>10.1f}s")
    print(
        f"{transactions:,} transactions over {args.days} day(s): {total:.1f}s end to end "
        f"({report['transactions_per_second']:,}/s), simulation {simulate_seconds:.1f}s, "
        f"peak RSS {rss.mb:,.0f} MB, {os.cpu_count()} CPUs; asset checks "
        f"{report['checks_seconds']:.1f}s of it ({report['checks_seconds'] / total:.0%})"
    )
    if args.json:
        print(json.dumps(report))
    return 0


def cmd_dev(args) -> int:
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    settings.dsn()
    cmd = ["dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", args.host]
    cmd += ["-p", str(args.port)]
    print(
        f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
    )
    bin_dir = Path(sys.executable).parent
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    os.execvp(cmd[0], cmd)


def cmd_stop(args) -> int:
    from bank_assets.io.warehouse.embedded import stop_embedded_postgres

    stopped = stop_embedded_postgres(Settings.from_env().home / "postgres")
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bank-assets", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def day_args(s, default_date: bool = True):
        s.add_argument(
            "--date",
            type=date.fromisoformat,
            default=_yesterday() if default_date else None,
            required=not default_date,
            help="landing day YYYY-MM-DD (default: yesterday, UTC)",
        )

    s = sub.add_parser("simulate", help="write landing files and manifests for days")
    day_args(s)
    s.add_argument("--days", type=int, default=1)
    s.add_argument("--transactions", type=int, default=100_000, help="per day")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--defect-scale", type=float, default=1.0, help="0 = no planted defects")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("demo", help="simulate one day and materialize all its assets")
    day_args(s)
    s.add_argument("--transactions", type=int, default=100_000)
    s.add_argument("--seed", type=int, default=42)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("backfill", help="materialize every asset for a range of days, one run")
    s.add_argument("--start", type=date.fromisoformat, required=True)
    s.add_argument("--end", type=date.fromisoformat, help="last day, inclusive (default: start)")
    s.set_defaults(func=cmd_backfill)

    s = sub.add_parser("status", help="warehouse tables: rows per loaded partition")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("dq", help="data-quality results of a day: checks and quarantine per table")
    day_args(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_dq)

    s = sub.add_parser("query", help="run an analyst question from sql/queries for a day")
    s.add_argument("name", nargs="?", help="query name (see --list)")
    day_args(s)
    s.add_argument("--list", action="store_true", help="list the queries and what they answer")
    s.set_defaults(func=cmd_query)

    s = sub.add_parser(
        "scan-cards", help="look for raw card numbers in the lake and the warehouse (exit 1)"
    )
    s.add_argument(
        "--include-landing",
        action="store_true",
        help="also scan landing/ (the source systems' files, which the pipeline never writes)",
    )
    s.set_defaults(func=cmd_scan_cards)

    s = sub.add_parser("dictionary", help="write the data dictionary (markdown)")
    s.add_argument("--output", default=str(PROJECT_ROOT / "docs" / "data_dictionary.md"))
    s.set_defaults(func=cmd_dictionary)

    s = sub.add_parser("bench", help="simulate and materialize on a separate embedded stack")
    s.add_argument("--transactions", type=int, default=1_000_000, help="per day")
    s.add_argument("--days", type=int, default=1)
    s.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 20))
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--home", help="state directory, wiped first (default: $BANK_ASSETS_HOME/bench)")
    s.add_argument("--json", action="store_true", help="last line: one JSON object")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("dev", help="Dagster webserver + daemon on the embedded stack")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=3000)
    s.set_defaults(func=cmd_dev)

    s = sub.add_parser("stop", help="stop the embedded PostgreSQL server")
    s.set_defaults(func=cmd_stop)
    return p


def main(argv: list[str] | None = None) -> int:
    import warnings

    # Dagster flags single-run backfill policies as beta; users of the CLI cannot act on it.
    warnings.filterwarnings("ignore", message=".*backfill_policy.*")
    from bank_assets.io.warehouse.access import private_umask
    from bank_assets.io.warehouse.embedded import EmbeddedPostgresError
    from bank_assets.settings import ConfigurationError

    private_umask()  # the lake, the Dagster home and the server's data are the user's only
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigurationError, EmbeddedPostgresError) as e:
        raise SystemExit(f"bank-assets: {e}") from e


if __name__ == "__main__":
    sys.exit(main())
