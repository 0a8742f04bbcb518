"""Transactions domain: postings -> fact_transactions."""

from bank_assets.defs.factory import curated_asset, raw_asset, staged_assets, warehouse_asset
from bank_assets.lib.curated import fact_transactions
from bank_assets.lib.sources import TRANSACTIONS
from bank_assets.lib.spark import read_table
from bank_assets.lib.staging import STAGING


def _build(spark, lake, day):
    return fact_transactions(
        read_table(spark, lake, "staged", "transactions", day),
        read_table(spark, lake, "curated", "dim_accounts", day),
        read_table(spark, lake, "curated", "dim_clients", day),
        day,
    )


assets = [
    raw_asset(TRANSACTIONS),
    staged_assets(STAGING["transactions"]),
    curated_asset(
        "fact_transactions",
        deps=[
            ["staged", "transactions"],
            ["curated", "dim_accounts"],
            ["curated", "dim_clients"],
            ["curated", "dim_dates"],
        ],
        build=_build,
        grain="one row per posting on one account (an internal transfer is two rows)",
    ),
    warehouse_asset("curated", "fact_transactions", "dw.fact_transactions"),
    warehouse_asset("quarantine", "transactions", "quarantine.transactions"),
]
