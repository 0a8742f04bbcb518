"""The import arrows point down: the pipeline (definitions, defs, builders, io, model) never
loads the simulator or the CLI, and the pure model loads neither Dagster, psycopg nor the io
layer. Each check imports in a fresh interpreter and reads its sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys

PIPELINE = ("bank_assets.model", "bank_assets.io", "bank_assets.builders", "bank_assets.defs")

# Prints the loaded module names after importing every module of `packages` (and, when asked,
# building the Dagster definitions).
_PROBE = """
import importlib, json, pkgutil, sys
packages, build = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in packages:
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        importlib.import_module(info.name)
if build:
    from bank_assets import definitions
    definitions.defs()
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(packages: tuple[str, ...], build_definitions: bool) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(packages), json.dumps(build_definitions)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def _under(modules: list[str], *roots: str) -> list[str]:
    return [m for m in modules if any(m == r or m.startswith(r + ".") for r in roots)]


def test_the_pipeline_loads_neither_the_simulator_nor_the_cli():
    modules = _loaded(PIPELINE, build_definitions=True)
    assert "bank_assets.definitions" in modules and "bank_assets.defs.transactions" in modules
    assert _under(modules, "bank_assets.simulator", "bank_assets.cli", "faker") == []


def test_the_model_loads_neither_dagster_psycopg_nor_io():
    modules = _loaded(("bank_assets.model",), build_definitions=False)
    assert "bank_assets.model.quality" in modules
    assert _under(modules, "dagster", "psycopg", "bank_assets.io") == []
