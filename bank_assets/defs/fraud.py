"""Fraud domain: flagged postings -> fact_fraudes (one row per alert)."""

from bank_assets.builders.assets import star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.facts import FRAUDES_READS, fact_fraudes

assets = [
    *star_assets(
        "fact_fraudes",
        inputs=[("curated", "fact_transactions", FRAUDES_READS)],
        transform=lambda fact, day: fact_fraudes(fact),
        grain="one row per fraud alert, always linked to its posting in fact_transactions",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
