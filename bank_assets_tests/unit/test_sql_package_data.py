"""sql/ and dagster.yaml stay at the top level and are the package's data: bank_assets links
to them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_sql_is_the_top_level_sql():
    link = ROOT / "bank_assets" / "sql"
    assert link.is_symlink() and link.resolve() == ROOT / "sql"
    assert {p.relative_to(link) for p in link.glob("**/*.sql")} == {
        p.relative_to(ROOT / "sql") for p in (ROOT / "sql").glob("**/*.sql")
    }


def test_the_package_dagster_yaml_is_the_top_level_one():
    link = ROOT / "bank_assets" / "dagster.yaml"
    assert link.is_symlink() and link.resolve() == ROOT / "dagster.yaml"
