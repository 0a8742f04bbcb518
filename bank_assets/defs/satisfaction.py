"""Satisfaction domain: survey responses -> dim_satisfaction."""

from bank_assets.builders.assets import keys_of, source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.dimensions import dim_satisfaction

assets = [
    *source_assets("surveys"),
    *star_assets(
        "dim_satisfaction",
        inputs=[("staged", "surveys"), keys_of("dim_clients"), keys_of("dim_products")],
        transform=dim_satisfaction,
        grain="one row per survey response (CSAT, NPS and its category, complaint flag)",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
