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
bank-assets alerts [--date D] [--json]              the alerts raised (dq.alerts), newest first

Developer commands (develop.py):
bank-assets simulate --date 2026-11-20 [--days N] [--transactions N] [--seed S]
bank-assets demo [--date D] [--transactions N]      simulate + materialize one day
bank-assets bench --transactions N [--days D] [--sizes N1,N2] [--floor] [--json]
bank-assets dev                                     Dagster UI (webserver + daemon)
bank-assets start | stop                            start / stop the embedded PostgreSQL server

What both share (the Dagster home, running days as one run, failed-run alerts, figures) is in
common.py.

Exit codes: 0 done; 1 the command ran and says what is wrong (a run failed, no data for the
day, raw card numbers found, the embedded server is stopped, a configuration error); 2 a usage
mistake (an unknown option, a value out of range, a malformed day), with one line on stderr.
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
from bank_assets.cli.develop import (
    cmd_bench,
    cmd_demo,
    cmd_dev,
    cmd_simulate,
    cmd_start,
    cmd_stop,
)
from bank_assets.cli.operate import (
    cmd_alerts,
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


class Parser(argparse.ArgumentParser):
    """Usage mistakes: one line on stderr and exit 2, never the usage block or a traceback."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def day_type(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day: expected YYYY-MM-DD, e.g. 2026-11-20"
        ) from None


def at_least(minimum: int | float, kind: type = int):
    """An argparse type: a number of `kind` no smaller than `minimum`."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {text}")
        return value

    return parse


def sizes_type(text: str) -> list[int]:
    """An argparse type: two or more distinct transaction counts, comma-separated."""
    positive = at_least(1)
    sizes = [positive(part.strip()) for part in text.split(",")]
    if len(set(sizes)) < 2:
        raise argparse.ArgumentTypeError(f"needs two or more different sizes, not {text}")
    return sizes


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="bank-assets",
        description=__doc__.split("\n")[0],
        epilog=__doc__[__doc__.index("Exit codes:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    def day_args(s, default_date: bool = True):
        s.add_argument(
            "--date",
            type=day_type,
            default=_yesterday() if default_date else None,
            required=not default_date,
            help="landing day YYYY-MM-DD (default: yesterday, UTC)",
        )

    s = sub.add_parser("simulate", help="write landing files and manifests for days")
    day_args(s)
    s.add_argument("--days", type=at_least(1), default=1)
    s.add_argument("--transactions", type=at_least(1), default=100_000, help="per day")
    s.add_argument("--seed", type=at_least(0), default=42)
    s.add_argument(
        "--defect-scale", type=at_least(0.0, float), default=1.0, help="0 = no planted defects"
    )
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("demo", help="simulate one day and materialize all its assets")
    day_args(s)
    s.add_argument("--transactions", type=at_least(1), default=100_000)
    s.add_argument("--seed", type=at_least(0), default=42)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser(
        "backfill", help="a Dagster backfill of every asset for days, through the run queue"
    )
    s.add_argument("--start", type=day_type, help="first day, YYYY-MM-DD")
    s.add_argument("--end", type=day_type, help="last day, inclusive (default: start)")
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

    s = sub.add_parser("alerts", help="the alerts raised (dq.alerts), newest first")
    s.add_argument("--date", type=day_type, help="only the alerts about this day")
    s.add_argument("--limit", type=at_least(1), default=20, help="at most this many (default 20)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_alerts)

    s = sub.add_parser("dictionary", help="write the data dictionary (markdown)")
    s.add_argument("--output", default=str(PROJECT_ROOT / "docs" / "data_dictionary.md"))
    s.set_defaults(func=cmd_dictionary)

    s = sub.add_parser("bench", help="simulate and materialize on a separate embedded stack")
    s.add_argument("--transactions", type=at_least(1), default=1_000_000, help="per day")
    s.add_argument("--days", type=at_least(1), default=1)
    s.add_argument("--date", type=day_type, default=date(2026, 11, 20))
    s.add_argument("--seed", type=at_least(0), default=42)
    s.add_argument("--home", help="state directory, wiped first (default: $BANK_ASSETS_HOME/bench)")
    s.add_argument(
        "--sizes",
        type=sizes_type,
        help="comma-separated transactions per day, e.g. 100000,1000000: bench each (its own "
        "process) and fit seconds = fixed + per_million x millions per step and in total",
    )
    s.add_argument(
        "--floor",
        action="store_true",
        help="then the transaction path of the first day in plain Spark (native CSV and Parquet, "
        "the same rules), cold and warm, in a fresh process: the floor (cli/floor.py)",
    )
    s.add_argument("--json", action="store_true", help="last line: one JSON object")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("dev", help="Dagster webserver + daemon on the embedded stack")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=at_least(1), default=3000)
    s.set_defaults(func=cmd_dev)

    s = sub.add_parser("start", help="start the embedded PostgreSQL server")
    s.set_defaults(func=cmd_start)

    s = sub.add_parser(
        "stop",
        help="stop the embedded PostgreSQL server; it stays stopped until `start` or a run",
    )
    s.set_defaults(func=cmd_stop)
    return p


def quiet_dagster_warnings() -> None:
    """Dagster's beta / preview / superseded API warnings (e.g. on single-run backfill
    policies) are for the project's developers, not for someone running a command: ignored."""
    import warnings

    from dagster_shared.utils.warnings import BetaWarning, PreviewWarning, SupersessionWarning

    for category in (BetaWarning, PreviewWarning, SupersessionWarning):
        warnings.filterwarnings("ignore", category=category)


def say_server_starts() -> None:
    """Starting the embedded server is said in one line on stderr (embedded.py logs it)."""
    import logging

    from bank_assets.io.warehouse import embedded

    log = logging.getLogger(embedded.__name__)
    if not log.handlers:  # once per process (tests call main more than once)
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("bank-assets: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False  # said once, whatever else configures the root logger


def main(argv: list[str] | None = None) -> int:
    from bank_assets.io.warehouse.access import private_umask
    from bank_assets.io.warehouse.embedded import EmbeddedPostgresError
    from bank_assets.io.warehouse.migrations import MigrationError

    quiet_dagster_warnings()
    say_server_starts()
    private_umask()  # the lake, the Dagster home and the server's data are the user's only
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigurationError, EmbeddedPostgresError, MigrationError) as e:
        raise SystemExit(f"bank-assets: {e}") from e
