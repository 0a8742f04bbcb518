"""The resources every asset, check and sensor is given, by key."""

import dagster as dg

from bank_assets.resources import AlertsResource, LakeResource, SparkResource, WarehouseResource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "spark": SparkResource(),
            "lake": LakeResource(),
            "warehouse": WarehouseResource(),
            "alerts": AlertsResource(),
        }
    )
