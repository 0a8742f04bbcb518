"""Calendar domain: dim_dates."""

from bank_assets.defs.factory import curated_asset, warehouse_asset
from bank_assets.lib.curated import dim_dates

assets = [
    curated_asset(
        "dim_dates",
        deps=[],
        build=lambda spark, lake, day: dim_dates(spark, day),
        grain="one row per calendar day (key YYYYMMDD), with ISO week and TARGET2 business days",
    ),
    warehouse_asset("curated", "dim_dates", "dw.dim_dates"),
]
