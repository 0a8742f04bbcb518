"""Fraud domain: flagged postings -> fact_fraudes (one row per alert)."""

from bank_assets.defs.factory import curated_asset, warehouse_asset
from bank_assets.lib.facts import fact_fraudes

assets = [
    curated_asset(
        "fact_fraudes",
        inputs=[("curated", "fact_transactions")],
        transform=lambda fact, day: fact_fraudes(fact),
        grain="one row per fraud alert, always linked to its posting in fact_transactions",
    ),
    warehouse_asset("curated", "fact_fraudes", "dw.fact_fraudes"),
]
