"""Command-line mistakes as a new user makes them: one line on stderr naming what is wrong,
exit 2 (usage), no traceback, and nothing started (no server, no lake written)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

MISTAKES = [
    (["simulate", "--transactions", "0"], "argument --transactions: must be at least 1, not 0"),
    (["simulate", "--transactions", "-5"], "argument --transactions: must be at least 1, not -5"),
    (["simulate", "--transactions", "many"], "argument --transactions: 'many' is not a number"),
    (["simulate", "--days", "0"], "argument --days: must be at least 1, not 0"),
    (["simulate", "--seed", "-1"], "argument --seed: must be at least 0, not -1"),
    (["simulate", "--defect-scale", "-0.5"], "argument --defect-scale: must be at least 0.0"),
    (["demo", "--transactions", "0"], "argument --transactions: must be at least 1, not 0"),
    (["bench", "--days", "-2"], "argument --days: must be at least 1, not -2"),
    (["dq", "--date", "notadate"], "'notadate' is not a day: expected YYYY-MM-DD, e.g. 2026-11-20"),
    (["query", "fraud_rate_by_type", "--date", "2026-02-30"], "'2026-02-30' is not a day"),
    (["alerts", "--date", "yesterday"], "'yesterday' is not a day"),
    (["query", "no_such_question"], "no query named 'no_such_question'"),
    (["status", "--wrong"], "unrecognized arguments: --wrong"),
    (["simulat"], "invalid choice: 'simulat'"),
]


@pytest.mark.parametrize(("args", "said"), MISTAKES, ids=[" ".join(a) for a, _ in MISTAKES])
def test_a_mistake_is_one_line_and_exit_2(args, said, tmp_path):
    home = tmp_path / "home"
    out = subprocess.run(
        [sys.executable, "-m", "bank_assets.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "BANK_ASSETS_HOME": str(home), "BANK_ASSETS_LAKE_URL": ""},
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and said in lines[0], out.stderr
    assert lines[0].startswith("bank-assets") and "Traceback" not in out.stderr
    assert not home.exists()  # refused before anything ran: no server, no lake


def test_help_lists_the_exit_codes():
    out = subprocess.run(
        [sys.executable, "-m", "bank_assets.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0
    assert "Exit codes: 0 done; 1 " in out.stdout and "2 a usage" in out.stdout
    assert "alerts" in out.stdout and "start" in out.stdout
