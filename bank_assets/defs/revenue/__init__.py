"""Revenue domain: the branch P&L -> fact_revenue (profit generated in PostgreSQL)."""

from bank_assets.defs.factory import curated_asset, source_assets, warehouse_asset
from bank_assets.lib.facts import fact_revenue

assets = [
    *source_assets("branch_pnl"),
    curated_asset(
        "fact_revenue",
        inputs=[("staged", "branch_pnl"), ("curated", "dim_products")],
        transform=fact_revenue,
        deps=[["curated", "dim_dates"]],
        grain="one row per day x branch x product",
    ),
    warehouse_asset("curated", "fact_revenue", "dw.fact_revenue"),
]
