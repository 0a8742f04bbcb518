"""The landing zone as observed external assets: the source systems' daily deliveries (each
domain declares its sources' landing with their raw, staged and warehouse assets: source_assets).

Dagster does not build these; the landing sensor (automation.py) records an observation of each
source's day once its manifest is there, so the asset graph starts at the source systems and
each day's partition shows when it landed and with how many rows.
"""

import dagster as dg

from bank_assets.builders import catalog
from bank_assets.builders.partitions import daily
from bank_assets.model.sources import SOURCES

# Which source system delivers each landed table (the simulator plays them all).
SYSTEMS = {
    "transactions": "the core banking system (the day's postings)",
    "clients": "the CRM (the day's client master export)",
    "accounts": "the core banking system (the day's account master export)",
    "products": "the product catalogue (the day's products and fees)",
    "merchants": "the card acquirer (the day's merchant master)",
    "fx_rates": "the market data feed (the day's reference FX rates)",
    "loans": "the loan management system (the day's loan book)",
    "loan_payments": "the loan management system (the day's installments)",
    "branch_pnl": "the finance ledger (the day's P&L per branch and product)",
    "surveys": "the survey platform (the day's satisfaction responses)",
}


def landing_spec(name: str) -> dg.AssetSpec:
    source = SOURCES[name]
    return dg.AssetSpec(
        key=["landing", name],  # the raw asset's upstream (builders/assets.py)
        group_name="landing",
        kinds={"s3", source.file_format},
        partitions_def=daily,
        description=(
            f"{name} files delivered by {SYSTEMS[name]} to landing/{name}/, "
            f"{source.file_format.upper()}. External: observed, not built. A day's partition is "
            "observed when the day's manifest lands (rows per file, manifest sha256, landed time)."
        ),
        **catalog.landing(source),
    )
