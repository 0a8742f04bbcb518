"""The e2e tests' user: an environment as a user of the command line sets it."""

from __future__ import annotations

import pytest


@pytest.fixture()
def home(tmp_path, s3_env, s3_lake_url, pg_dsn) -> dict[str, str]:
    """A user's environment: MinIO-style S3 lake, a PostgreSQL DSN, a state directory."""
    return {
        "BANK_ASSETS_HOME": str(tmp_path / "home"),
        "BANK_ASSETS_LAKE_URL": s3_lake_url,
        "BANK_ASSETS_PG_DSN": pg_dsn,
        "BANK_ASSETS_SPARK_MASTER": "local[2]",
        "BANK_ASSETS_SPARK_DRIVER_MEMORY": "2g",
        "DAGSTER_PG_URL": pg_dsn.replace("postgresql://", "postgresql+psycopg2://"),
        "BANK_ASSETS_SENSOR_INTERVAL_SECONDS": "5",  # failure alerts 5 s after a failed run
    }
