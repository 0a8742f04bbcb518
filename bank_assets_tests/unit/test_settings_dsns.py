"""The settings of an external warehouse: a loader DSN alone is not enough (no server)."""

from __future__ import annotations

import pytest


def test_an_external_loader_dsn_needs_the_other_roles_dsns():
    from bank_assets.settings import ConfigurationError, Settings

    settings = Settings.from_env({"BANK_ASSETS_PG_DSN": "postgresql://bank_loader:pw@db/bank"})
    with pytest.raises(ConfigurationError, match="BANK_ASSETS_ANALYST_DSN"):
        settings.analyst_dsn()
    # Dagster's database is derived from the loader's DSN (io/test_external_postgres.py), and
    # refused at once, saying what to set, when that server cannot be reached
    with pytest.raises(ConfigurationError, match=r"DAGSTER_PG_URL is not.* connecting there"):
        settings.dagster_url()


@pytest.mark.parametrize(
    ("dsn", "url"),
    [
        (
            "postgresql://bank_loader:p%40ss@db.example:6432/bank?sslmode=require",
            "postgresql+psycopg2://bank_loader:p%40ss@db.example:6432/dagster?sslmode=require",
        ),
        (
            "host=db user=bank_loader password=pw dbname=bank",
            "postgresql+psycopg2://bank_loader:pw@db/dagster",
        ),
        # the embedded server's form: a Unix socket directory stays a query option
        (
            "postgresql://bank_loader:pw@/bank?host=/tmp/pg",
            "postgresql+psycopg2://bank_loader:pw@/dagster?host=%2Ftmp%2Fpg",
        ),
    ],
)
def test_the_dagster_url_derived_from_the_loader_dsn(dsn, url):
    """Database `dagster` on the loader's server as the loader, every other option kept."""
    from bank_assets.io.warehouse.dagster_database import dagster_url_from

    assert dagster_url_from(dsn) == url
