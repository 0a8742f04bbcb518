"""Currencies domain: the day's FX reference rates -> dim_currencies."""

from bank_assets.builders.assets import source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.dimensions import dim_currencies

assets = [
    *source_assets("fx_rates"),
    *star_assets(
        "dim_currencies",
        inputs=[("staged", "fx_rates")],
        transform=dim_currencies,
        grain="one row per ISO 4217 currency, with minor units and the latest EUR rate",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
