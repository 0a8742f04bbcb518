"""Merchants domain: the acquirer's merchant list -> dim_merchants (with MCC descriptions)."""

from bank_assets.builders.assets import source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.dimensions import dim_merchants

assets = [
    *source_assets("merchants"),
    *star_assets(
        "dim_merchants",
        inputs=[("staged", "merchants")],
        transform=dim_merchants,
        grain="one row per merchant, with its ISO 18245 merchant category code",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
