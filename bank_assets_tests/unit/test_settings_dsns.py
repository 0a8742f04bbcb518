"""The settings of an external warehouse: a loader DSN alone is not enough (no server)."""

from __future__ import annotations

import pytest


def test_an_external_loader_dsn_needs_the_other_roles_dsns():
    from bank_assets.settings import ConfigurationError, Settings

    settings = Settings.from_env({"BANK_ASSETS_PG_DSN": "postgresql://bank_loader:pw@db/bank"})
    with pytest.raises(ConfigurationError, match="BANK_ASSETS_ANALYST_DSN"):
        settings.analyst_dsn()
    with pytest.raises(ConfigurationError, match="DAGSTER_PG_URL"):
        settings.dagster_url()
