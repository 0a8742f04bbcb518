"""The command line as a user runs it: a `bank-assets` subprocess in a given environment."""

from __future__ import annotations

import os
import subprocess
import sys


def cli(*args: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "bank_assets.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=900,
    )
    if ok:
        assert out.returncode == 0, out.stderr[-3000:]
    return out
