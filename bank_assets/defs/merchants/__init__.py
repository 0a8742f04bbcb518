"""Merchants domain: the acquirer's merchant list -> dim_merchants (with MCC descriptions)."""

from bank_assets.defs.factory import curated_asset, source_assets, warehouse_asset
from bank_assets.lib.curated import dim_merchants

assets = [
    *source_assets("merchants"),
    curated_asset(
        "dim_merchants",
        inputs=[("staged", "merchants")],
        transform=dim_merchants,
        grain="one row per merchant, with its ISO 18245 merchant category code",
    ),
    warehouse_asset("curated", "dim_merchants", "dw.dim_merchants"),
]
