"""Clients domain: the client master -> dim_clients (SCD2)."""

from bank_assets.defs.factory import curated_asset, raw_asset, staged_assets, warehouse_asset
from bank_assets.lib.curated import dim_clients
from bank_assets.lib.sources import CLIENTS
from bank_assets.lib.spark import read_table
from bank_assets.lib.staging import STAGING

assets = [
    raw_asset(CLIENTS),
    staged_assets(STAGING["clients"]),
    curated_asset(
        "dim_clients",
        deps=[["staged", "clients"]],
        build=lambda spark, lake, day: dim_clients(
            read_table(spark, lake, "staged", "clients", day), day
        ),
        grain="one row per client version (SCD2); key = hash of client id and tracked attributes",
    ),
    warehouse_asset("curated", "dim_clients", "dw.dim_clients"),
    warehouse_asset("quarantine", "clients", "quarantine.clients"),
]
