"""sql/ stays at the top level and is the package's data: bank_assets/sql links to it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_sql_is_the_top_level_sql():
    link = ROOT / "bank_assets" / "sql"
    assert link.is_symlink() and link.resolve() == ROOT / "sql"
    assert {p.relative_to(link) for p in link.glob("**/*.sql")} == {
        p.relative_to(ROOT / "sql") for p in (ROOT / "sql").glob("**/*.sql")
    }
