"""Calendar domain: dim_dates."""

from bank_assets.builders.assets import star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.dimensions import dim_dates

assets = [
    *star_assets(
        "dim_dates",
        inputs=[],
        transform=dim_dates,
        grain="one row per calendar day of 2015-2035 (key YYYYMMDD), ISO weeks, TARGET2 days",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
