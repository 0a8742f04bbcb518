"""Currencies domain: the day's FX reference rates -> dim_currencies."""

from bank_assets.defs.factory import curated_asset, source_assets, warehouse_asset
from bank_assets.lib.curated import dim_currencies

assets = [
    *source_assets("fx_rates"),
    curated_asset(
        "dim_currencies",
        inputs=[("staged", "fx_rates")],
        transform=dim_currencies,
        grain="one row per ISO 4217 currency, with minor units and the latest EUR rate",
    ),
    warehouse_asset("curated", "dim_currencies", "dw.dim_currencies"),
]
