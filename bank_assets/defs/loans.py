"""Loans domain: the loan book -> fact_loans (accumulating snapshot); settled installments ->
fact_payments."""

from bank_assets.builders.assets import keys_of, source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.facts import fact_loans, fact_payments

DIMENSIONS = [keys_of("dim_accounts"), keys_of("dim_clients"), keys_of("dim_products")]

assets = [
    *source_assets("loans"),
    *source_assets("loan_payments"),
    *star_assets(
        "fact_loans",
        inputs=[("staged", "loans"), *DIMENSIONS],
        transform=fact_loans,
        deps=[["curated", "dim_dates"]],
        grain="one row per loan (accumulating snapshot as of the partition's day)",
    ),
    *star_assets(
        "fact_payments",
        inputs=[("staged", "loan_payments"), ("staged", "loans"), *DIMENSIONS],
        transform=fact_payments,
        deps=[["curated", "dim_dates"]],
        grain="one row per loan installment, in the partition of the day it was settled",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
