"""The resources every asset, check and sensor is given, by key."""

import dagster as dg

from bank_assets.resources import AlertsResource, LakeResource, SparkResource, WarehouseResource
from bank_assets.settings import Settings


def secret(name: str) -> dg.EnvVar | None:
    """A secret as dg.EnvVar where the deployment sets it (docker-compose): the UI shows the
    variable, never its value. Unset (the embedded default) it stays None and Settings derives
    the value at first use (the embedded server's DSN): an EnvVar of an unset variable fails."""
    return dg.EnvVar(name) if Settings.is_set(name) else None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "spark": SparkResource(),
            "lake": LakeResource(
                s3_access_key=secret("BANK_ASSETS_S3_ACCESS_KEY"),
                s3_secret_key=secret("BANK_ASSETS_S3_SECRET_KEY"),
            ),
            "warehouse": WarehouseResource(dsn=secret("BANK_ASSETS_PG_DSN")),
            "alerts": AlertsResource(webhook_url=secret("BANK_ASSETS_ALERT_WEBHOOK")),
        }
    )
