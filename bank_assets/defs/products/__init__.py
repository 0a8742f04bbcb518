"""Products domain: the product catalogue -> dim_products."""

from bank_assets.defs.factory import curated_asset, source_assets, warehouse_asset
from bank_assets.lib.curated import dim_products

assets = [
    *source_assets("products"),
    curated_asset(
        "dim_products",
        inputs=[("staged", "products")],
        transform=dim_products,
        grain="one row per product (deposit, card, loan, insurance, investment)",
    ),
    warehouse_asset("curated", "dim_products", "dw.dim_products"),
]
