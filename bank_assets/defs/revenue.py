"""Revenue domain: the branch P&L -> fact_revenue (profit generated in PostgreSQL)."""

from bank_assets.builders.assets import keys_of, source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.facts import fact_revenue

assets = [
    *source_assets("branch_pnl"),
    *star_assets(
        "fact_revenue",
        inputs=[("staged", "branch_pnl"), keys_of("dim_products")],
        transform=fact_revenue,
        deps=[["curated", "dim_dates"]],
        grain="one row per day x branch x product",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
