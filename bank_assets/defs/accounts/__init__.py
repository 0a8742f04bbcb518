"""Accounts domain: the account master -> dim_accounts (SCD2)."""

from bank_assets.defs.factory import curated_asset, raw_asset, staged_assets, warehouse_asset
from bank_assets.lib.curated import dim_accounts
from bank_assets.lib.sources import ACCOUNTS
from bank_assets.lib.spark import read_table
from bank_assets.lib.staging import STAGING

assets = [
    raw_asset(ACCOUNTS),
    staged_assets(STAGING["accounts"]),
    curated_asset(
        "dim_accounts",
        deps=[["staged", "accounts"]],
        build=lambda spark, lake, day: dim_accounts(
            read_table(spark, lake, "staged", "accounts", day), day
        ),
        grain="one row per account version (SCD2); key = hash of account id and tracked attributes",
    ),
    warehouse_asset("curated", "dim_accounts", "dw.dim_accounts"),
    warehouse_asset("quarantine", "accounts", "quarantine.accounts"),
]
