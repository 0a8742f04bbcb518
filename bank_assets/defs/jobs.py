"""The job every automation launches: all assets of one day (or a range, as one run)."""

import dagster as dg

from bank_assets.builders.partitions import daily

# Spark runs in-process: one run = one Spark session shared by all its steps.
daily_job = dg.define_asset_job(
    "daily_warehouse",
    selection=dg.AssetSelection.all(),
    partitions_def=daily,
    executor_def=dg.in_process_executor,
    description="Every asset of one landing day (or a range, as one run): landing -> warehouse.",
)
