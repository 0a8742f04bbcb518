"""The Dagster definitions: only assembles what the domains define (`dagster dev -m ...`)."""

import dagster as dg

from bank_assets.defs import accounts, calendar, clients, transactions
from bank_assets.defs.partitions import daily
from bank_assets.resources import LakeResource, SparkResource, WarehouseResource

# Spark runs in-process: one run = one Spark session shared by all its steps.
daily_job = dg.define_asset_job(
    "daily_warehouse",
    selection=dg.AssetSelection.all(),
    partitions_def=daily,
    executor_def=dg.in_process_executor,
    description="Every asset of one landing day (or a range, as one run): landing -> warehouse.",
)

defs = dg.Definitions(
    assets=[*calendar.assets, *clients.assets, *accounts.assets, *transactions.assets],
    jobs=[daily_job],
    resources={
        "spark": SparkResource(),
        "lake": LakeResource(),
        "warehouse": WarehouseResource(),
    },
    executor=dg.in_process_executor,
)
