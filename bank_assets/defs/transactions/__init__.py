"""Transactions domain: postings -> fact_transactions (scored for fraud)."""

from bank_assets.defs.factory import source_assets, star_assets
from bank_assets.lib import fraud
from bank_assets.lib.facts import fact_transactions

assets = [
    *source_assets("transactions"),
    *star_assets(
        "fact_transactions",
        inputs=[
            ("staged", "transactions"),
            ("staged", "transactions", fraud.COLUMNS),
            ("curated", "dim_accounts"),
            ("curated", "dim_clients"),
            ("curated", "dim_products"),
            ("curated", "dim_merchants"),
            ("staged", "fx_rates"),
        ],
        transform=fact_transactions,
        deps=[["curated", "dim_dates"]],
        grain="one row per posting on one account (an internal transfer is two rows)",
    ),
]
