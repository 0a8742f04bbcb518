"""The embedded server and the commands that only look (no Spark): the first one starts it and
says so in one line; after `bank-assets stop` they leave it stopped and say how to start it;
`start` starts it; `query` and `dq` for a day without data both exit 1 with the same line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bank_assets.io.warehouse.embedded import _running_pid, stop_embedded_postgres

DAY = "2026-11-20"
STOPPED = "is stopped (`bank-assets stop`): `bank-assets start` starts it again"


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANK_ASSETS_", "DAGSTER_"))}
    return subprocess.run(
        [sys.executable, "-m", "bank_assets.cli", *args],
        capture_output=True,
        text=True,
        env={**env, "BANK_ASSETS_HOME": str(home)},
        timeout=300,
    )


def test_looking_commands_keep_a_stopped_server_stopped(tmp_path):
    home = tmp_path / "home"
    pgdata = home / "postgres"
    try:
        first = cli(home, "status")
        assert first.returncode == 0, first.stderr
        assert first.stderr.splitlines() == [
            f"bank-assets: started the embedded PostgreSQL server ({pgdata}); "
            "`bank-assets stop` stops it"
        ]
        assert "fact_transactions" in first.stdout and _running_pid(pgdata)
        again = cli(home, "status")  # running: nothing to say
        assert again.returncode == 0 and again.stderr == ""

        stop = cli(home, "stop")
        assert stop.returncode == 0 and stop.stdout.startswith("embedded PostgreSQL stopped;")
        assert _running_pid(pgdata) is None
        for args in (
            ["status"],
            ["status", "--json"],
            ["query", "fraud_rate_by_type", "--date", DAY],
            ["dq", "--date", DAY],
            ["alerts"],
            ["dictionary", "--output", str(tmp_path / "dictionary.md")],
            ["scan-cards"],
        ):
            out = cli(home, *args)
            assert out.returncode == 1, (args, out.stderr)
            assert len(out.stderr.splitlines()) == 1 and STOPPED in out.stderr, (args, out.stderr)
            assert "Traceback" not in out.stderr and out.stdout == ""
            assert _running_pid(pgdata) is None, args
        assert not (tmp_path / "dictionary.md").exists()

        start = cli(home, "start")
        assert start.returncode == 0 and "started the embedded PostgreSQL server" in start.stderr
        assert start.stdout.startswith("embedded PostgreSQL running: postgresql://bank_loader:***@")
        assert _running_pid(pgdata)

        # a day that was never run: the same answer from both commands
        said = f"no data for {DAY}: run it first (bank-assets backfill --start {DAY})\n"
        for args in (["query", "fraud_rate_by_type", "--date", DAY], ["dq", "--date", DAY]):
            out = cli(home, *args)
            assert (out.returncode, out.stderr, out.stdout) == (1, said, ""), args
        empty = cli(home, "alerts")
        assert (empty.returncode, empty.stdout) == (0, "no alerts\n")
    finally:
        stop_embedded_postgres(pgdata)


def test_a_stop_outside_the_cli_does_not_keep_it_stopped(tmp_path):
    """Only the user's `bank-assets stop` is remembered: a server that is down for another
    reason (a reboot, a test's fixture) is started by the next command, saying so."""
    home = tmp_path / "home"
    pgdata = home / "postgres"
    try:
        assert cli(home, "status").returncode == 0
        stop_embedded_postgres(pgdata)
        out = cli(home, "status")
        assert out.returncode == 0 and "started the embedded PostgreSQL server" in out.stderr
    finally:
        stop_embedded_postgres(pgdata)
