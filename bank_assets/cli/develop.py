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
    """Peak resident memory of this process and its children (the JVM, Python workers), sampled
    every `interval` seconds: the total RSS (the issue's figure), this process's own (the driver's
    Python: what the asset checks hold), the JVM's, and at the peak the share of Spark's Python
    workers. Forked workers share their daemon's pages, which the RSS sum counts once per
    worker: the proportional set size (PSS, /proc/<pid>/smaps_rollup, each shared page split
    among its sharers) counts them once; it is read every `pss_every` samples (the kernel walks
    every page of the JVM for it: ~25 ms). The embedded PostgreSQL server is not a child
    (pg_ctl daemonizes it): not counted. `samples` ((epoch seconds, total RSS bytes)) give each
    step's peak (step_shape)."""

    def __init__(self, interval: float = 0.2, pss_every: int = 5):
        import psutil

        self.proc, self.interval, self.pss_every = psutil.Process(), interval, pss_every
        self.peak = self.own = self.jvm = self.pss = 0
        self.at_peak: dict[str, float] = {}
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        n = 0
        while not self._stop.is_set():
            rss: dict[str, int] = {"driver": 0, "jvm": 0, "python_workers": 0}
            workers = pss = 0
            read_pss = n % self.pss_every == 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                with contextlib.suppress(psutil.Error, OSError):  # a child may exit meanwhile
                    size = p.memory_info().rss
                    kind = (
                        "driver"
                        if p is self.proc
                        else "jvm"
                        if p.name() == "java"
                        else "python_workers"
                    )
                    rss[kind] += size
                    workers += kind == "python_workers"
                    if read_pss:
                        pss += _pss(p.pid)
            total = sum(rss.values())
            self.samples.append((time.time(), total))
            if total > self.peak:
                self.peak = total
                self.at_peak = {f"{k}_mb": _mb(v) for k, v in rss.items()}
                self.at_peak["python_workers"] = workers
            self.own, self.jvm = max(self.own, rss["driver"]), max(self.jvm, rss["jvm"])
            self.pss = max(self.pss, pss)
            n += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return _mb(self.peak)

    @property
    def own_mb(self) -> float:
        return _mb(self.own)

    @property
    def jvm_mb(self) -> float:
        return _mb(self.jvm)

    @property
    def pss_mb(self) -> float:
        return _mb(self.pss)


def _mb(size: int) -> float:
    return round(size / 2**20, 1)


def _pss(pid: int) -> int:
    """The proportional set size of process `pid` in bytes (0 where the kernel has no rollup)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


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
    prepare_dagster_home(settings)  # first: a Dagster database it cannot use refuses at once
    print(f"simulating {args.transactions:,} transactions for {args.date} ...")
    t0 = time.perf_counter()
    simulate(lake, args.date, 1, args.transactions, args.seed)
    t1 = time.perf_counter()
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
    if args.sizes:
        return bench_sizes(args)
    report = bench_once(args)
    figures = report["assets"]
    print(f"{'asset':<34}{'rows':>12}{'seconds':>10}")
    for key in sorted(figures):
        f = figures[key]
        print(f"{key:<34}{f['rows'] or 0:>12,}{f['seconds'] or 0:>10.1f}s")
    heads = f"{'seconds':>9}{'jobs':>7}{'stages':>8}{'tasks':>8}{'peak RSS MB':>13}"
    print(f"\n{'step (its assets)':<46}{heads}")
    for label, step in report["steps"].items():
        peak = step["peak_rss_mb"]
        print(
            f"{label:<46}{step['seconds']:>9.1f}{step['jobs']:>7}{step['stages']:>8}"
            f"{step['tasks']:>8}{'' if peak is None else f'{peak:,.0f}':>13}"
        )
    spark = report["spark"]
    total = report["total_seconds"]
    print(
        f"{report['transactions']:,} transactions over {report['days']} day(s): {total:.1f}s "
        f"end to end ({report['transactions_per_second']:,}/s), simulation "
        f"{report['simulate_seconds']:.1f}s, peak RSS {report['peak_rss_mb']:,.0f} MB (the "
        f"driver's Python {report['driver_rss_mb']:,.0f} MB, the JVM "
        f"{report['jvm_rss_mb']:,.0f} MB, Spark's {report['at_peak']['python_workers']} Python "
        f"workers {report['at_peak']['python_workers_mb']:,.0f} MB at the peak; PSS "
        f"{report['pss_mb']:,.0f} MB), {report['cpus']} CPUs; asset checks "
        f"{report['checks_seconds']:.1f}s of it ({report['checks_seconds'] / total:.0%}); Spark "
        f"{spark['jobs']} jobs, {spark['stages']} stages, {spark['tasks']} tasks"
    )
    code = 0
    if args.floor:
        report["floor"], code = bench_floor(args.date)
        if report["floor"] is not None:
            from bank_assets.cli.floor import table

            print("\n".join(table(report["floor"], report["steps"])))
    if args.json:
        print(json.dumps(report))
    return code


def bench_floor(day) -> tuple[dict | None, int]:
    """The transaction path of the bench's first `day` in plain Spark (cli/floor.py) in a fresh
    process, so it pays Spark's start as a user's run does, on the bench's home (os.environ holds
    it, bench_once): its figures (None if it failed before it had any) and its exit code (1:
    its row counts differ from the run's)."""
    import subprocess

    cmd = [sys.executable, "-m", "bank_assets.cli.floor", "--day", day.isoformat()]
    out = subprocess.run(cmd, capture_output=True, text=True)
    try:
        floor = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        sys.stderr.write(out.stdout + out.stderr)
        return None, out.returncode or 1
    if out.returncode:
        sys.stderr.write(out.stderr)
    return floor, out.returncode


def bench_once(args) -> dict:
    """Simulate args.days days of args.transactions each on a wiped state directory and
    materialize them as one run; the run's figures."""
    import dagster as dg

    from bank_assets.io.lake import Lake
    from bank_assets.io.spark.session import spark_jobs
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
        windows = step_windows(instance, result.run_id)
    jobs = spark_jobs()  # after the timing: reading Spark's status store takes its own time
    if not settings.pg_dsn:  # the bench's own embedded server is not needed afterwards
        from bank_assets.io.warehouse.embedded import stop_embedded_postgres

        stop_embedded_postgres(settings.home / "postgres")
    transactions = args.transactions * args.days
    return {
        "transactions": transactions,
        "days": args.days,
        "simulate_seconds": round(simulate_seconds, 2),
        "total_seconds": round(total, 2),
        "checks_seconds": round(checks_seconds(result), 2),
        "transactions_per_second": round(transactions / total),
        "peak_rss_mb": rss.mb,
        "driver_rss_mb": rss.own_mb,
        "jvm_rss_mb": rss.jvm_mb,
        "pss_mb": rss.pss_mb,
        "at_peak": rss.at_peak,
        "cpus": os.cpu_count(),
        "spark": spark_totals(jobs),
        "assets": asset_figures(result),
        "steps": step_shape(windows, step_assets(result), jobs, rss.samples),
    }


def spark_totals(jobs: list[dict]) -> dict:
    """The run's Spark jobs, stages (run, and skipped), tasks; `retained_jobs` fewer than `jobs`
    says the stages and tasks count only the newest jobs (see io/spark/session.spark_jobs)."""
    from pyspark import SparkContext

    sc = SparkContext._active_spark_context
    launched = sc._jsc.sc().dagScheduler().numTotalJobs() if sc is not None else len(jobs)
    totals = {k: sum(j[k] for j in jobs) for k in ("stages", "skipped_stages", "tasks")}
    return {"jobs": launched, "retained_jobs": len(jobs), **totals}


def step_windows(instance, run_id: str) -> dict[str, tuple[float, float]]:
    """Each step of the run: when it started and ended (epoch seconds, from the event log)."""
    import dagster as dg

    ends = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    windows: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id, of_type={dg.DagsterEventType.STEP_START, *ends}):
        window = windows.setdefault(entry.step_key, [entry.timestamp, entry.timestamp])
        if entry.dagster_event.event_type in ends:
            window[1] = entry.timestamp
    return {k: (a, b) for k, (a, b) in windows.items()}


def step_assets(result) -> dict[str, list[str]]:
    """The assets each step materialized."""
    assets: dict[str, set[str]] = {}
    for event in result.get_asset_materialization_events():
        assets.setdefault(event.step_key, set()).add(event.asset_key.to_user_string())
    return {k: sorted(v) for k, v in assets.items()}


def step_shape(
    windows: dict[str, tuple[float, float]],
    assets: dict[str, list[str]],
    jobs: list[dict],
    samples: list[tuple[float, int]] = (),
) -> dict[str, dict]:
    """Per step, in the order the steps ran, labelled by its asset (or its step key when it
    materializes several): its wall seconds, its assets, the Spark jobs, stages and tasks
    submitted while it ran (the in-process executor runs one step at a time) and the peak of the
    RSS `samples` ((epoch seconds, bytes), PeakRss's) taken while it ran (None without one)."""
    shape = {}
    for step, (start, end) in sorted(windows.items(), key=lambda kv: kv[1]):
        own = [j for j in jobs if start <= j["submitted"] <= end]
        rss = [size for at, size in samples if start <= at <= end]
        names = assets.get(step, [])
        shape[names[0] if len(names) == 1 else step] = {
            "seconds": round(end - start, 3),
            "assets": names,
            "jobs": len(own),
            "stages": sum(j["stages"] for j in own),
            "tasks": sum(j["tasks"] for j in own),
            "peak_rss_mb": _mb(max(rss)) if rss else None,
        }
    return shape


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The least-squares line through (millions of transactions, seconds) points: seconds =
    fixed + per_million x millions, as (fixed, per_million). Two sizes give the line through
    both; fewer than two distinct sizes cannot separate the parts."""
    xs = [x for x, _ in points]
    if len(set(xs)) < 2:
        raise ValueError("the fit needs runs at two or more sizes")
    n = len(points)
    mean_x, mean_y = sum(xs) / n, sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x in xs)
    return mean_y - slope * mean_x, slope


def fit_shape(reports: list[dict]) -> dict:
    """fixed + per_million x millions for the whole run and for each step that ran at every
    size, from bench reports at two or more sizes (millions: transactions of the whole run)."""
    sizes = [r["transactions"] / 1e6 for r in reports]

    def fit(seconds: list[float]) -> dict:
        fixed, per_million = fit_line(list(zip(sizes, seconds, strict=True)))
        return {"fixed": round(fixed, 2), "per_million": round(per_million, 2)}

    common = [k for k in reports[0]["steps"] if all(k in r["steps"] for r in reports)]
    return {
        "total": fit([r["total_seconds"] for r in reports]),
        "steps": {k: fit([r["steps"][k]["seconds"] for r in reports]) for k in common},
    }


def bench_sizes(args) -> int:
    """Bench each size in its own process (each pays Spark's start and JIT warm-up as a user's
    run does) and fit the fixed and per-row parts of the run and of each step."""
    import subprocess

    sizes = args.sizes
    reports = []
    for n in sizes:
        cmd = [sys.executable, "-m", "bank_assets.cli", "bench", "--transactions", str(n)]
        cmd += ["--days", str(args.days), "--date", args.date.isoformat()]
        cmd += ["--seed", str(args.seed), "--json"] + (["--home", args.home] if args.home else [])
        cmd += ["--floor"] if args.floor else []
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            return out.returncode
        *lines, last = out.stdout.strip().splitlines()
        print("\n".join(lines[-1:]), flush=True)  # the size's summary line
        reports.append(json.loads(last))
    shape = fit_shape(reports)
    heads = "".join(f"{f'{n:,}':>11}" for n in sizes)
    print(f"\n{'step (its assets)':<46}{heads}{'fixed':>9}{'per 1M':>9}  (seconds)")
    rows = [("total", [r["total_seconds"] for r in reports], shape["total"])]
    rows += [(k, [r["steps"][k]["seconds"] for r in reports], f) for k, f in shape["steps"].items()]
    for label, seconds, f in rows:
        cells = "".join(f"{s:>11.1f}" for s in seconds)
        print(f"{label:<46}{cells}{f['fixed']:>9.1f}{f['per_million']:>9.1f}")
    jobs = "".join(f"{r['spark']['jobs']:>11}" for r in reports)
    stages = "".join(f"{r['spark']['stages']:>11}" for r in reports)
    print(f"{'Spark jobs':<46}{jobs}\n{'Spark stages':<46}{stages}")
    if args.json:
        print(json.dumps({"sizes": sizes, "runs": reports, "fit": shape}))
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
