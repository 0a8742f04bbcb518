"""pyproject.toml lists its packages (sql/ is mapped in as bank_assets.sql, which package
discovery cannot add): every package of the tree is listed, so the wheel misses none."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_and_sql_folder_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    python = {
        ".".join(d.relative_to(ROOT).parts)
        for top in ("bank_assets", "bank_assets_tests")
        for d in [ROOT / top, *(ROOT / top).rglob("*")]
        if d.is_dir() and any(d.glob("*.py"))
    }
    sql = {
        ".".join(("bank_assets", *d.relative_to(ROOT).parts))
        for d in [ROOT / "sql", *(ROOT / "sql").rglob("*")]
        if d.is_dir() and any(d.glob("*.sql"))
    }
    listed = set(config["packages"])
    assert python | sql <= listed, f"add to [tool.setuptools] packages: {python | sql - listed}"
    assert listed <= python | sql, f"no such package: {listed - python - sql}"
    assert config["package-dir"] == {"bank_assets.sql": "sql"}
