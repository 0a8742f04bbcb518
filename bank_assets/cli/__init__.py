"""`bank-assets`: simulate landing days, run the pipeline, inspect the warehouse, benchmark.

Operator commands (operate.py):
bank-assets backfill --start D [--end D2] [--no-wait]  a Dagster backfill of days D..D2
bank-assets backfill --failed                       re-run what the last backfill left
bank-assets status [--json]                         warehouse tables: rows per partition
bank-assets query --list                            the analyst questions
bank-assets query NAME [--date D]                   answer one for a day
bank-assets dq [--date D] [--json]                  data-quality checks and quarantine per table
bank-assets dictionary [--output PATH]              write docs/data_dictionary.md
bank-assets scan-cards [--include-landing]          raw card numbers in the lake / warehouse?

Developer commands (develop.py):
bank-assets simulate --date 2026-11-20 [--days N] [--transactions N] [--seed S]
bank-assets demo [--date D] [--transactions N]      simulate + materialize one day
bank-assets bench --transactions N [--days D] [--json]
bank-assets dev                                     Dagster UI (webserver + daemon)
bank-assets stop                                    stop the embedded PostgreSQL server

What both share (the Dagster home, running days as one run, failed-run alerts, figures) is in
common.py.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta

from bank_assets.cli.common import (
    JOB,
    asset_figures,
    checks_seconds,
    failed_run,
    prepare_dagster_home,
    redacted,
    run_days,
)
from bank_assets.cli.develop import cmd_bench, cmd_demo, cmd_dev, cmd_simulate, cmd_stop
from bank_assets.cli.operate import (
    cmd_backfill,
    cmd_dictionary,
    cmd_dq,
    cmd_query,
    cmd_scan_cards,
    cmd_status,
)
from bank_assets.settings import PROJECT_ROOT, ConfigurationError

__all__ = [
    "JOB",
    "asset_figures",
    "checks_seconds",
    "failed_run",
    "main",
    "parser",
    "prepare_dagster_home",
    "redacted",
    "run_days",
]


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


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

    s = sub.add_parser(
        "backfill", help="a Dagster backfill of every asset for days, through the run queue"
    )
    s.add_argument("--start", type=date.fromisoformat)
    s.add_argument("--end", type=date.fromisoformat, help="last day, inclusive (default: start)")
    s.add_argument(
        "--failed",
        action="store_true",
        help="re-run what the latest unfinished backfill left: its failed days in full, and "
        "on its good days only what it did not materialize",
    )
    s.add_argument("--no-wait", action="store_true", help="print the backfill id and return")
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
    from bank_assets.io.warehouse.migrations import MigrationError

    private_umask()  # the lake, the Dagster home and the server's data are the user's only
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigurationError, EmbeddedPostgresError, MigrationError) as e:
        raise SystemExit(f"bank-assets: {e}") from e
