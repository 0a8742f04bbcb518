"""Developer commands: simulate the source systems, a demo day, the benchmark, the Dagster UI on
the embedded stack, and stopping its PostgreSQL server."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import shutil
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from bank_assets.cli.backfill import verdict
from bank_assets.cli.common import (
    asset_figures,
    checks_seconds,
    prepare_dagster_home,
    redacted,
    run_days,
    workspace_target,
)
from bank_assets.settings import Settings


def _progress(enabled: bool):
    from tqdm import tqdm

    bar = tqdm(desc="simulate", unit="step", disable=not enabled, leave=False)

    def step(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    return step, bar


class PeakRss:
    """Peak resident memory of this process and its children (JVM, Python workers), sampled;
    `driver_mb`: of this process alone (the driver: what must not grow with the day)."""

    def __init__(self, interval: float = 0.2):
        import psutil

        self.proc, self.peak, self.interval = psutil.Process(), 0, interval
        self.driver_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            total = 0
            with contextlib.suppress(psutil.Error):
                self.driver_peak = max(self.driver_peak, self.proc.memory_info().rss)
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

    @property
    def driver_mb(self) -> float:
        return round(self.driver_peak / 2**20, 1)


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


def cmd_demo(args) -> int:
    import dagster as dg

    from bank_assets.io.lake import Lake
    from bank_assets.simulator import simulate

    settings = Settings.from_env()
    lake = Lake(settings.lake_config)
    print(f"simulating {args.transactions:,} transactions for {args.date} ...")
    t0 = time.perf_counter()
    simulate(lake, args.date, 1, args.transactions, args.seed)
    t1 = time.perf_counter()
    prepare_dagster_home(settings)
    print("materializing every asset of the partition (Spark, then PostgreSQL) ...", flush=True)
    with dg.DagsterInstance.get() as instance:
        result = run_days(instance, args.date, args.date, log_level="WARNING", progress=True)
    t2 = time.perf_counter()
    demo_summary(result, settings, args.date)
    print(
        f"\nsimulated in {t1 - t0:.1f}s, materialized in {t2 - t1:.1f}s"
        f"\nlake:      {lake.uri('')}"
        f"\nwarehouse: {redacted(settings.dsn())}"
        f"\nUI:        make dev, then open http://localhost:3000 (asset graph, runs, metadata)"
        f"\nquality:   .venv/bin/bank-assets dq --date {args.date} (checks and quarantine)"
    )
    verdict(settings.dsn(), [result.run_id], [args.date])
    print(f"run id: {result.run_id}")
    return 0


def demo_summary(result, settings: Settings, day) -> None:
    """What a run of `day` made, each figure once: per lake asset its rows of the day; per
    warehouse table the rows of the day and of the whole table, both counted in PostgreSQL
    (a dimension's table also holds its unknown member, -1, and earlier days' rows), and the
    seconds its load took."""
    from bank_assets.io.warehouse.loader import Warehouse

    figures = asset_figures(result)
    metadata = {
        e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    print(f"\n{'lake asset':<34}{'rows':>12}{'seconds':>10}")
    for key in sorted(k for k in figures if not k.startswith("warehouse/")):
        # the day's own count where the run records one per day, else the asset's
        rows = metadata[key].get("dagster/partition_row_count") or metadata[key].get(
            "dagster/row_count"
        )
        print(f"{key:<34}{rows.value if rows else 0:>12,}{figures[key]['seconds'] or 0:>10.1f}")
    print(f"\n{'warehouse table':<34}{'of the day':>12}{'in table':>12}{'seconds':>10}")
    for name, t in Warehouse(settings.dsn()).status()["tables"].items():
        of_day = f"{t['partitions'].get(day.isoformat(), 0):,}" if t["per_day"] else "-"
        # its asset: warehouse/<table>, or warehouse/quarantine_<source>
        seconds = figures.get(f"warehouse/{name.replace('.', '_')}", {}).get("seconds") or 0
        print(f"{name:<34}{of_day:>12}{t['rows']:>12,}{seconds:>10.1f}")
    print(
        "(of the day: the rows the day's load wrote, by batch_id or date_key; "
        "'-': a table not kept per day)"
    )


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
    # in a child process: what the simulator leaves resident (2.6 GB after a 5M day) is not
    # the pipeline's driver memory (driver_rss_mb)
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        pool.submit(simulate, lake, start, args.days, args.transactions, args.seed).result()
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
        "driver_rss_mb": rss.driver_mb,
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
    cmd = ["dagster", "dev", *workspace_target(), "-h", args.host]
    cmd += ["-p", str(args.port)]
    print(
        f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
    )
    bin_dir = Path(sys.executable).parent
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    # `dagster dev` warns at start that it is superseded by `dg dev`: nothing a user acts on
    quiet = "ignore::FutureWarning:click.core"
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))
    os.execvp(cmd[0], cmd)


def cmd_start(args) -> int:
    settings = Settings.from_env()
    if settings.pg_dsn:
        print("BANK_ASSETS_PG_DSN is set: that server is yours to start, no embedded one is used")
        return 0
    print(f"embedded PostgreSQL running: {redacted(settings.dsn())}")
    return 0


def cmd_stop(args) -> int:
    from bank_assets.io.warehouse.embedded import stop_embedded_postgres

    stopped = stop_embedded_postgres(Settings.from_env().home / "postgres", stay_stopped=True)
    print(
        ("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        + "; status, query, dq, alerts, dictionary and scan-cards leave it stopped, "
        "`bank-assets start` (or demo, backfill, dev) starts it"
    )
    return 0
