"""Calendar domain: dim_dates."""

from bank_assets.defs.factory import curated_asset, warehouse_asset
from bank_assets.lib.curated import dim_dates

assets = [
    curated_asset(
        "dim_dates",
        inputs=[],
        transform=dim_dates,
        grain="one row per calendar day of 2015-2035 (key YYYYMMDD), ISO weeks, TARGET2 days",
    ),
    warehouse_asset("curated", "dim_dates", "dw.dim_dates"),
]
