"""A non-editable install works: the wheel of the project, installed outside the source tree,
lists every .sql file of sql/ (and holds dagster.yaml), migrates a real (embedded) PostgreSQL
from its copy, loads the definitions without a project file, and runs `bank-assets demo`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
# what the wheel is built from (as docker/Dockerfile copies it)
SOURCES = ("pyproject.toml", "README.md", "dagster.yaml", "bank_assets", "sql")
INSTALLED = """
import json, sys
from importlib.resources import files

import bank_assets
from bank_assets.analyst import queries
from bank_assets.definitions import defs
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.settings import DEFAULT_HOME


def walk(folder, prefix=""):
    for f in folder.iterdir():
        if f.is_dir():
            yield from walk(f, prefix + f.name + "/")
        elif f.name.endswith(".sql"):
            yield prefix + f.name


Warehouse(sys.argv[1]).apply_ddl()
print(json.dumps({
    "package": bank_assets.__file__,
    "sql": sorted(walk(files("bank_assets.sql"))),
    "queries": sorted(queries.catalogue()),
    "dagster.yaml": (files("bank_assets") / "dagster.yaml").read_text(),
    "assets": len(list(defs().resolve_asset_graph().materializable_asset_keys)),
    "observed": len(list(defs().resolve_asset_graph().external_asset_keys)),
    "home": str(DEFAULT_HOME),
}))
"""


@pytest.mark.slow
def test_an_installed_wheel_finds_its_sql_migrates_and_runs_the_demo(tmp_path, pg_dsn):
    source = tmp_path / "source"  # a copy: the build leaves build/ and *.egg-info behind
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            # symlinks kept: bank_assets/sql is a link to sql/, as in a checkout
            shutil.copytree(
                ROOT / name,
                source / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copyfile(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", tmp_path / "wheel", source], check=True)
    (wheel,) = (tmp_path / "wheel").glob("bank_assets-*.whl")
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)
    shutil.rmtree(source)  # nothing of the source tree to fall back on

    env = {**os.environ, "PYTHONPATH": str(site)}  # the venv's other packages, not the checkout
    out = subprocess.run(
        [sys.executable, "-c", INSTALLED, pg_dsn],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.splitlines()[-1])
    assert Path(found["package"]).is_relative_to(site)
    assert found["sql"] == sorted(
        str(p.relative_to(ROOT / "sql")) for p in ROOT.glob("sql/**/*.sql")
    )
    assert found["dagster.yaml"] == (ROOT / "dagster.yaml").read_text()  # the instance's config
    assert found["queries"] == sorted(p.stem for p in (ROOT / "sql" / "queries").glob("*.sql"))
    with psycopg.connect(pg_dsn) as conn:
        ledger = conn.execute("select name from public.schema_migrations order by version")
        assert [n for (n,) in ledger] == sorted(p.name for p in ROOT.glob("sql/[0-9]*.sql"))
    # the definitions load from the installed package; its state defaults to the user's home
    assert found["assets"] == 66  # built, and one observed landing per source
    assert found["observed"] == 10
    assert found["home"] == str(Path.home() / ".bank_assets")

    # `bank-assets demo` from the installed copy, on its own embedded server and lake
    demo_env = {**env, "BANK_ASSETS_HOME": str(tmp_path / "home")}
    cli = [sys.executable, "-m", "bank_assets.cli"]
    try:
        demo = subprocess.run(
            [*cli, "demo", "--date", "2026-11-20", "--transactions", "2000"],
            cwd=tmp_path,
            env=demo_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        # the day's postings reached the warehouse, and the summary's two tables agree: the
        # lake's rows of the day, the warehouse's of the day and of the table (a fresh one)
        lake_rows = re.search(r"^curated/fact_transactions\s+([1-9][\d,]*)\s", demo.stdout, re.M)
        table = re.search(r"^fact_transactions\s+([\d,]+)\s+([\d,]+)\s", demo.stdout, re.M)
        assert lake_rows and table, demo.stdout
        assert table.group(1) == table.group(2) == lake_rows.group(1), demo.stdout
        # its progress (each asset as it materializes), the day's verdict and the run id
        assert re.search(
            r"^  materialized warehouse/fact_transactions +2026-11-20 ", demo.stdout, re.M
        )
        assert re.search(r"^  2026-11-20  passed", demo.stdout, re.M)
        assert re.search(r"^run id: \S+$", demo.stdout, re.M)
    finally:
        subprocess.run([*cli, "stop"], cwd=tmp_path, env=demo_env, capture_output=True)
