"""The source contract: what each source system lands, in which format, with which columns.

Landed values are all text; types come in the staged layer. Adding a source table means adding
one `SourceTable` here, its staging rules in `staging.py` and its simulation in `simulator/`.
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
    snapshot: bool = False  # a full daily snapshot (a master): an empty file is never right

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
        "merchant_id",
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
    snapshot=True,
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
    snapshot=True,
)

PRODUCTS = SourceTable(
    name="products",
    file_format="jsonl",
    columns=(
        "product_code",
        "product_name",
        "category",
        "interest_rate",
        "monthly_fee",
    ),
    key="product_code",
    grain="one row per product (the day's product catalogue)",
    snapshot=True,
)

MERCHANTS = SourceTable(
    name="merchants",
    file_format="jsonl",
    columns=("merchant_id", "merchant_name", "mcc", "city", "country"),
    key="merchant_id",
    grain="one row per merchant (the card acquirer's merchant list)",
    snapshot=True,
)

FX_RATES = SourceTable(
    name="fx_rates",
    file_format="csv",
    columns=("currency", "rate_date", "eur_per_unit"),
    key="currency",
    grain="one row per currency: the day's reference rate in EUR per unit",
    snapshot=True,
)

LOANS = SourceTable(
    name="loans",
    file_format="jsonl",
    columns=(
        "loan_id",
        "client_id",
        "account_id",
        "product_code",
        "branch_code",
        "applied_on",
        "decision",
        "decided_on",
        "disbursed_on",
        "principal",
        "currency",
        "annual_rate",
        "term_months",
        "installment",
        "outstanding_principal",
        "days_past_due",
        "status",
    ),
    key="loan_id",
    grain="one row per loan application (the day's loan book snapshot)",
)

LOAN_PAYMENTS = SourceTable(
    name="loan_payments",
    file_format="csv",
    columns=(
        "installment_id",
        "loan_id",
        "installment_no",
        "due_date",
        "amount_due",
        "principal_part",
        "interest_part",
        "fee_part",
        "paid_amount",
        "late_fee",
        "paid_at",
        "status",
    ),
    key="installment_id",
    grain="one row per loan installment settled that day (paid, late, partial or missed)",
)

BRANCH_PNL = SourceTable(
    name="branch_pnl",
    file_format="csv",
    columns=(
        "line_id",
        "branch_code",
        "product_code",
        "interest_income",
        "fee_income",
        "other_income",
        "operating_cost",
        "provisions",
    ),
    key="line_id",
    grain="one row per branch and product: the day's income, costs and provisions in EUR",
)

SURVEYS = SourceTable(
    name="surveys",
    file_format="jsonl",
    columns=(
        "survey_id",
        "client_id",
        "product_code",
        "channel",
        "service",
        "responded_at",
        "csat",
        "nps",
        "complaint",
        "comment",
    ),
    key="survey_id",
    grain="one row per satisfaction survey response",
)

SOURCES: dict[str, SourceTable] = {
    t.name: t
    for t in (
        TRANSACTIONS,
        CLIENTS,
        ACCOUNTS,
        PRODUCTS,
        MERCHANTS,
        FX_RATES,
        LOANS,
        LOAN_PAYMENTS,
        BRANCH_PNL,
        SURVEYS,
    )
}
