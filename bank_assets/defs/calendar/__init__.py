"""Calendar domain: dim_dates."""

from bank_assets.defs.factory import star_assets
from bank_assets.lib.curated import dim_dates

assets = [
    *star_assets(
        "dim_dates",
        inputs=[],
        transform=dim_dates,
        grain="one row per calendar day of 2015-2035 (key YYYYMMDD), ISO weeks, TARGET2 days",
    ),
]
