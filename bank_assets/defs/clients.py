"""Clients domain: the client master -> dim_clients (SCD2)."""

from bank_assets.builders.assets import source_assets, star_assets
from bank_assets.builders.catalog import in_domain
from bank_assets.model.dimensions import dim_clients

assets = [
    *source_assets("clients"),
    *star_assets(
        "dim_clients",
        inputs=[("staged", "clients")],
        transform=dim_clients,
        grain="one row per client version (SCD2); key = hash of client id and tracked attributes",
    ),
]

# owners, domain tag and code references (builders/catalog.py)
assets = in_domain(__name__, assets)
