"""Products domain: the product catalogue -> dim_products."""

from bank_assets.builders.assets import source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.dimensions import dim_products

assets = [
    *source_assets("products"),
    *star_assets(
        "dim_products",
        inputs=[("staged", "products")],
        transform=dim_products,
        grain="one row per product (deposit, card, loan, insurance, investment)",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
