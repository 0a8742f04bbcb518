"""The warehouse's tables: schema, name, how a day is loaded, keys and grain (the registry).

The DDL in `sql/` creates them; the loader (`bank_assets/io/warehouse/loader.py`) loads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bank_assets.model.dimensions import ACCOUNT_DESCRIBED, CLIENT_DESCRIBED
from bank_assets.model.sources import SOURCES

# scd2: the columns the load derives when it chains a key's versions (the lake's rows have none)
SCD2_CHAINED = ("described_on", "valid_to", "is_current", "version")


@dataclass(frozen=True)
class WarehouseTable:
    schema: str
    name: str
    load: str  # "replace_day" | "scd2" | "upsert"
    key: tuple[str, ...] = ()  # conflict key (scd2, upsert)
    natural_key: str | None = None  # scd2: the business key whose versions are chained
    partitioned: bool = False  # replace_day on a table range-partitioned by date_key per day
    newer: str | None = None  # upsert: a row only replaces one whose `newer` is not later
    references: tuple[str, ...] = ()  # dimensions its foreign keys point to (loaded first)
    type1: tuple[str, ...] = ()  # scd2: attributes the newest export sets on every version
    grain: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def chained(self) -> tuple[str, ...]:
        """Columns the load fills, not the lake table loaded (see SCD2_CHAINED)."""
        return SCD2_CHAINED if self.load == "scd2" else ()

    @property
    def described(self) -> str:
        """What the table holds and how a day is loaded: the data dictionary's line and the
        table's COMMENT in PostgreSQL."""
        partitioned = ", range-partitioned by date_key (one partition per day)"
        return f"Grain: {self.grain}. Load: {self.load}{partitioned if self.partitioned else ''}."


def _dimension(name: str, key: str, grain: str, newer: str | None = None) -> WarehouseTable:
    return WarehouseTable("dw", name, "upsert", key=(key,), newer=newer, grain=grain)


CONFORMED = ("dim_dates", "dim_clients", "dim_accounts", "dim_products")


def _fact(
    name: str, grain: str, partitioned: bool = True, references: tuple[str, ...] = CONFORMED
) -> WarehouseTable:
    return WarehouseTable(
        "dw", name, "replace_day", partitioned=partitioned, grain=grain, references=references
    )


TABLES: dict[str, WarehouseTable] = {
    t.qualified: t
    for t in (
        _dimension("dim_dates", "date_key", "one row per calendar day"),
        WarehouseTable(
            "dw",
            "dim_clients",
            "scd2",
            key=("client_key",),
            natural_key="client_id",
            type1=CLIENT_DESCRIBED,
            grain="one row per client version (SCD2)",
        ),
        WarehouseTable(
            "dw",
            "dim_accounts",
            "scd2",
            key=("account_key",),
            natural_key="account_id",
            type1=ACCOUNT_DESCRIBED,
            grain="one row per account version (SCD2)",
        ),
        # a re-run of an older day never overwrites the latest delivery (nor its lineage)
        _dimension("dim_products", "product_key", "one row per product", newer="batch_id"),
        _dimension("dim_merchants", "merchant_key", "one row per merchant", newer="batch_id"),
        _dimension("dim_currencies", "currency_key", "one row per currency", newer="batch_id"),
        _dimension("dim_transaction_types", "transaction_type_key", "one row per type"),
        _dimension("dim_channels", "channel_key", "one row per channel"),
        _fact("dim_satisfaction", "one row per survey response", partitioned=False),
        _fact(
            "fact_transactions",
            "one row per posting on one account",
            references=(
                *CONFORMED,
                "dim_merchants",
                "dim_transaction_types",
                "dim_channels",
                "dim_currencies",
            ),
        ),
        _fact(
            "fact_fraudes",
            "one row per fraud alert (a flagged posting)",
            partitioned=False,
            references=(*CONFORMED, "fact_transactions", "dim_transaction_types", "dim_channels"),
        ),
        WarehouseTable(
            "dw",
            "fact_loans",
            "upsert",
            key=("loan_id",),
            newer="date_key",
            references=CONFORMED,
            grain="one row per loan (accumulating snapshot; the latest day wins)",
        ),
        _fact("fact_payments", "one row per loan installment, by the day it was settled"),
        _fact("fact_revenue", "one row per day x branch x product", partitioned=False),
        *(
            WarehouseTable("quarantine", t, "replace_day", grain="one row per quarantined row")
            for t in SOURCES
        ),
    )
}
