"""Accounts domain: the account master -> dim_accounts (SCD2)."""

from bank_assets.builders.assets import source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.dimensions import dim_accounts

assets = [
    *source_assets("accounts"),
    *star_assets(
        "dim_accounts",
        inputs=[("staged", "accounts")],
        transform=dim_accounts,
        grain="one row per account version (SCD2); key = hash of account id and tracked attributes",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
