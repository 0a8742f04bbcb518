"""Clients domain: the client master -> dim_clients (SCD2)."""

from bank_assets.defs.factory import curated_asset, source_assets, warehouse_asset
from bank_assets.lib.curated import dim_clients

assets = [
    *source_assets("clients"),
    curated_asset(
        "dim_clients",
        inputs=[("staged", "clients")],
        transform=dim_clients,
        grain="one row per client version (SCD2); key = hash of client id and tracked attributes",
    ),
    warehouse_asset("curated", "dim_clients", "dw.dim_clients"),
]
