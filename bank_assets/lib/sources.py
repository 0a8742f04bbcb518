"""The source contract: what each source system lands, in which format, with which columns.

Landed values are all text; types come in the staged layer. Adding a source table means adding
one `SourceTable` here, its staging rules in `staging.py` and its simulation in `simulator.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType


@dataclass(frozen=True)
class SourceTable:
    name: str
    file_format: str  # "csv" | "jsonl"
    columns: tuple[str, ...]
    key: str  # natural key: one row per key per day once staged
    grain: str

    def raw_schema(self) -> StructType:
        """Landed columns as strings plus the lineage the lake reader adds."""
        return StructType(
            [StructField(c, StringType()) for c in self.columns]
            + [
                StructField("_source_file", StringType()),
                StructField("_line", LongType()),
                StructField("_landed_at", TimestampType()),
                StructField("_raw_line", StringType()),
                StructField("_error", StringType()),
            ]
        )


TRANSACTIONS = SourceTable(
    name="transactions",
    file_format="csv",
    columns=(
        "transaction_id",
        "account_id",
        "posted_at",
        "transaction_type",
        "channel",
        "direction",
        "amount",
        "currency",
        "balance_after",
        "status",
        "merchant_name",
        "mcc",
        "counterparty_iban",
        "transfer_id",
        "card_masked",
        "country",
        "description",
    ),
    key="transaction_id",
    grain="one row per posting on one account",
)

CLIENTS = SourceTable(
    name="clients",
    file_format="jsonl",
    columns=(
        "client_id",
        "first_name",
        "last_name",
        "birth_date",
        "email",
        "segment",
        "address_line",
        "postal_code",
        "city",
        "country",
        "kyc_status",
        "risk_rating",
        "status",
        "onboarded_at",
    ),
    key="client_id",
    grain="one row per client (the day's client master export)",
)

ACCOUNTS = SourceTable(
    name="accounts",
    file_format="jsonl",
    columns=(
        "account_id",
        "iban",
        "bic",
        "client_id",
        "product_code",
        "account_type",
        "currency",
        "branch_code",
        "status",
        "overdraft_limit",
        "interest_rate",
        "opened_at",
    ),
    key="account_id",
    grain="one row per account (the day's account master export)",
)

SOURCES: dict[str, SourceTable] = {t.name: t for t in (TRANSACTIONS, CLIENTS, ACCOUNTS)}
