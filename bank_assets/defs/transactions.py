"""Transactions domain: postings -> fact_transactions (scored for fraud)."""

from bank_assets.builders.assets import Earlier, keys_of, source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model import fraud
from bank_assets.model.dimensions import EARLIER_DAYS
from bank_assets.model.facts import ACCOUNT_READS, CLIENT_READS, FX_READS, fact_transactions

assets = [
    *source_assets("transactions"),
    *star_assets(
        "fact_transactions",
        inputs=[
            ("staged", "transactions"),
            ("staged", "transactions", fraud.COLUMNS),
            ("curated", "dim_accounts", ACCOUNT_READS),
            Earlier("curated", "dim_accounts", (*ACCOUNT_READS, "valid_from"), EARLIER_DAYS),
            ("curated", "dim_clients", CLIENT_READS),
            Earlier("curated", "dim_clients", (*CLIENT_READS, "valid_from"), EARLIER_DAYS),
            keys_of("dim_products"),
            keys_of("dim_merchants"),
            ("staged", "fx_rates", FX_READS),
        ],
        transform=fact_transactions,
        deps=[["curated", "dim_dates"]],
        grain="one row per posting on one account (an internal transfer is two rows)",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
