"""Operator commands: run days, and look at what the warehouse holds (status, data quality,
analyst questions, alerts, raw card numbers, the data dictionary).

The commands that only look never start an embedded server the user stopped (`bank-assets
stop`): they say it is stopped and how to start it (`Settings.keep_stopped`)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from bank_assets.cli.common import prepare_dagster_home, redacted
from bank_assets.settings import ConfigurationError, Settings


def cmd_backfill(args) -> int:
    """Days start..end (or, with --failed, what the latest unfinished backfill left) as a backfill
    in the Dagster instance: on the UI's Backfills page, its runs through the run queue; watched
    until it ends unless --no-wait (bank_assets/cli/backfill.py)."""
    import dagster as dg

    from bank_assets.cli import backfill as bf
    from bank_assets.io.warehouse.loader import Warehouse

    if args.failed and args.start:
        raise SystemExit("--failed re-runs the latest unfinished backfill: no --start/--end")
    if not args.failed and not args.start:
        raise SystemExit("backfill needs --start (and --end) or --failed")
    settings = Settings.from_env()
    days = [] if args.failed else _landed_days(settings, args.start, args.end or args.start)
    prepare_dagster_home(settings)
    dsn = settings.dsn()
    Warehouse(dsn).apply_ddl()  # dq.results and dq.alerts exist for the verdict
    with dg.DagsterInstance.get() as instance:
        if args.failed:
            backfill = _submit_what_is_left(instance, settings, dsn)
        else:
            backfill = bf.submit_days(instance, days, title=f"bank-assets {days[0]} to {days[-1]}")
            print(
                f"backfill {backfill.backfill_id} submitted: every asset for "
                f"{days[0]}..{days[-1]} (the UI's Backfills page shows it)",
                flush=True,
            )
        if args.no_wait:
            if not bf.daemon_alive(instance):
                print("no Dagster daemon is running: the backfill starts with `bank-assets dev`")
            return 0
        daemon = bf.Daemon(instance, settings.dagster_home() / "daemon.log")
        return bf.wait_and_report(instance, backfill, dsn, daemon)


def _landed_days(settings: Settings, start, end) -> list:
    """start..end, refused unless every day is a partition and has landed."""
    from bank_assets.builders.partitions import not_a_partition
    from bank_assets.io.lake import Lake

    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    refused = {d: why for d in days if (why := not_a_partition(d))}
    if refused:
        listed = "; ".join(f"{d}: {why}" for d, why in refused.items())
        raise SystemExit(f"not partitions, nothing was run: {listed}")
    landed = set(Lake(settings.lake_config).manifest_days())
    missing = [d.isoformat() for d in days if d not in landed]
    if missing:
        raise SystemExit(
            f"not landed (no manifest), nothing was run: {', '.join(missing)}. "
            "Land them first, e.g. `bank-assets simulate --date DAY`."
        )
    return days


def _submit_what_is_left(instance, settings: Settings, dsn: str):
    from bank_assets.cli import backfill as bf

    parent = bf.latest_unfinished(instance)
    if parent is None:
        raise SystemExit("no backfill to re-run: every backfill succeeded or was re-run")
    failed = bf.failed_days_of(instance, parent, dsn)
    if failed:
        _landed_days(settings, failed[0], failed[-1])  # redelivered since? still landed
    subset = bf.what_is_left(instance, parent, failed)
    if subset.is_empty:
        raise SystemExit(f"backfill {parent.backfill_id} left nothing to re-run")
    backfill = bf.submit_subset(
        instance, subset, parent, title=f"bank-assets re-run of {parent.backfill_id}"
    )
    print(
        f"backfill {backfill.backfill_id} submitted: re-runs backfill {parent.backfill_id}'s "
        f"failed days {', '.join(map(str, failed)) or '(none)'} in full and, on its good days, "
        f"only what it did not materialize ({subset.num_partitions_and_non_partitioned_assets} "
        "asset partitions in all)",
        flush=True,
    )
    return backfill


def _looking() -> Settings:
    """The settings of a command that only looks: it keeps a stopped embedded server stopped."""
    return Settings.from_env(keep_stopped=True)


def _analyst_dsn(settings: Settings) -> str:
    """The analyst's DSN, once the warehouse's tables and views exist (before the first run,
    they are created empty, so a question answers "no data" rather than an SQL error)."""
    from bank_assets.io.warehouse.loader import Warehouse

    Warehouse(settings.dsn()).apply_ddl()
    return settings.analyst_dsn()


def _no_data(dsn: str, day) -> int | None:
    """Exit 1 with one line when the warehouse holds nothing of `day` (no run recorded its
    data-quality results), as `query` and `dq` both say for such a day."""
    from bank_assets.analyst import queries

    if queries.has_day(dsn, day):
        return None
    print(f"no data for {day}: run it first (bank-assets backfill --start {day})", file=sys.stderr)
    return 1


def cmd_status(args) -> int:
    from bank_assets.io.warehouse.loader import Warehouse

    status = Warehouse(_looking().dsn()).status()
    if args.json:
        print(json.dumps(status))
        return 0
    for name, t in status["tables"].items():
        days = ", ".join(f"{d}: {n:,}" for d, n in t["partitions"].items()) or "-"
        print(f"{name:<26}{t['rows']:>12,}  {days}")
    return 0


def cmd_query(args) -> int:
    """An analyst question for a day; exit 1 if its answer is empty because the day has no
    data, exit 2 for a name not in the catalogue."""
    from bank_assets.analyst import queries

    known = queries.catalogue()
    if args.list or not args.name:
        for name, question in known.items():
            print(f"{name:<34}{question}")
        return 0
    if args.name not in known:
        print(
            f"bank-assets query: no query named {args.name!r} (see bank-assets query --list)",
            file=sys.stderr,
        )
        return 2
    dsn = _analyst_dsn(_looking())
    answer = queries.run(dsn, args.name, args.date)
    if not answer.rows and (refused := _no_data(dsn, args.date)):
        return refused
    print(f"{known[args.name]}  [{args.date}]")
    print(queries.table(answer))
    return 0


def cmd_dq(args) -> int:
    """The `data_quality` analyst query for a day (sql/queries), from dq.results; exit 1 if
    the day has no data (as `query`)."""
    from bank_assets.analyst import queries

    dsn = _analyst_dsn(_looking())
    answer = queries.run(dsn, "data_quality", args.date)
    if not answer.rows and (refused := _no_data(dsn, args.date)):
        return refused
    if args.json:
        print(json.dumps([dict(zip(answer.columns, r)) for r in answer.rows]))
        return 0
    print(f"{queries.catalogue()['data_quality']}  [{args.date}]")
    print(queries.table(answer))
    return 0


def cmd_alerts(args) -> int:
    """The alerts in dq.alerts (failed runs, failed blocking checks, rule warnings, late days),
    newest first (view analyst.v_alerts), for one day or all."""
    from bank_assets.analyst import queries

    answer = queries.alerts(_analyst_dsn(_looking()), args.date)
    shown = answer.rows[: args.limit]
    if args.json:
        print(json.dumps([dict(zip(answer.columns, r)) for r in shown], default=str))
        return 0
    about = f" about {args.date}" if args.date else ""
    if not answer.rows:
        print(f"no alerts{about}")
        return 0
    print(f"alerts{about}, newest first ({len(shown)} of {len(answer.rows)}; --limit N for more)")
    print(queries.table(queries.Answer(answer.columns, shown)))
    return 0


def cmd_scan_cards(args) -> int:
    """Raw card numbers anywhere the pipeline stores data (bank_assets/io/card_scan.py): each
    finding on a line (place, row, the number masked) and exit 1, or a one-line summary and
    exit 0."""
    from bank_assets.io import card_scan
    from bank_assets.io.lake import Lake

    settings = _looking()
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
    out.write_text(markdown(_looking().dsn()))
    print(f"wrote {out}")
    return 0
