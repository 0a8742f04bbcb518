"""Satisfaction domain: survey responses -> dim_satisfaction."""

from bank_assets.defs.factory import curated_asset, source_assets, warehouse_asset
from bank_assets.lib.curated import dim_satisfaction

assets = [
    *source_assets("surveys"),
    curated_asset(
        "dim_satisfaction",
        inputs=[("staged", "surveys"), ("curated", "dim_clients"), ("curated", "dim_products")],
        transform=dim_satisfaction,
        grain="one row per survey response (CSAT, NPS and its category, complaint flag)",
    ),
    warehouse_asset("curated", "dim_satisfaction", "dw.dim_satisfaction"),
]
