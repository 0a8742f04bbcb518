"""Accounts domain: the account master -> dim_accounts (SCD2)."""

from bank_assets.defs.factory import curated_asset, source_assets, warehouse_asset
from bank_assets.lib.curated import dim_accounts

assets = [
    *source_assets("accounts"),
    curated_asset(
        "dim_accounts",
        inputs=[("staged", "accounts")],
        transform=dim_accounts,
        grain="one row per account version (SCD2); key = hash of account id and tracked attributes",
    ),
    warehouse_asset("curated", "dim_accounts", "dw.dim_accounts"),
]
