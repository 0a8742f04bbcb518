"""The data dictionary: every warehouse table with its grain, columns, types and descriptions.

Generated from the same definitions the code uses: the tables and grains of the registry in
`model/tables.py`, the columns and types PostgreSQL reports for the DDL in `sql/`, and the
column descriptions below (one per column name: a name means the same thing in every table).
`bank-assets dictionary` writes docs/data_dictionary.md.
"""

from __future__ import annotations

import psycopg

from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model.tables import TABLES

COLUMNS: dict[str, str] = {
    "account_id": "Account number at the bank (natural key of the account)",
    "account_key": "Key of the account version valid at the event (dim_accounts); -1 unknown",
    "account_type": "CURRENT, SAVINGS, CARD or LOAN",
    "address_line": "Street address",
    "alert_id": "Fraud alert id: FA- and the flagged transaction id",
    "amount": "Amount in the posting's currency, unsigned (see direction)",
    "amount_at_risk": "Amount of the flagged posting, EUR",
    "amount_due": "Installment amount due = principal_part + interest_part + fee_part",
    "amount_eur": "Amount in EUR at the day's reference rate (rounded half up to the cent)",
    "amount_lost": "Part of the amount at risk that left the account (posted debits), EUR",
    "amount_recovered": "Part of the amount lost recovered so far, EUR",
    "annual_rate": "Nominal annual interest rate (0.045 = 4.5%)",
    "application_date_key": "Day the loan was applied for (dim_dates)",
    "balance_after": "Account balance after this posting, in the account's currency",
    "batch_id": "Business day (partition) the row was loaded for",
    "bic": "BIC of the account's branch",
    "birth_date": "Client's date of birth",
    "branch_code": "Branch managing the account or loan (B001-B040)",
    "card_masked": "Card number, masked: first 6 and last 4 digits only (never a full PAN)",
    "case_status": "Investigation status of the alert: OPEN, CONFIRMED or DISMISSED",
    "category": "Product family: DEPOSIT, CARD, LOAN, INSURANCE or INVESTMENT",
    "channel": "Channel code: POS, ECOMMERCE, ATM, MOBILE_APP, INTERNET_BANKING, BRANCH, SYSTEM",
    "channel_key": "Key of the channel (dim_channels)",
    "channels": "Channels a transaction type can come through",
    "city": "City",
    "client_id": "Client number at the bank (natural key of the client)",
    "client_key": "Key of the client version valid at the event (dim_clients); -1 unknown",
    "comment": "Free-text comment left with the survey",
    "counterparty_iban": "IBAN of the other party of a transfer",
    "country": "ISO 3166 country code (for a posting: where it took place)",
    "csat": "Customer satisfaction score, 1 (very unhappy) to 5 (very happy)",
    "currency": "ISO 4217 currency code",
    "currency_code": "ISO 4217 currency code",
    "currency_key": "Key of the currency (dim_currencies)",
    "currency_name": "Currency name",
    "date_key": "Business day YYYYMMDD (dim_dates); for snapshots, the day of the state shown",
    "day_name": "Day of the week, in English",
    "day_of_month": "Day of the month, 1-31",
    "day_of_week": "ISO day of the week, 1 = Monday",
    "day_of_year": "Day of the year, 1-366",
    "days_late": "Days between the due date and the settlement",
    "days_past_due": "Days since the oldest installment not fully paid fell due (0 = current)",
    "decision": "Credit decision: PENDING, APPROVED or REJECTED",
    "decision_date_key": "Day of the credit decision (dim_dates); -1 while pending",
    "delinquency_bucket": "Days past due bucket: current, 1-30, 31-60, 61-90, 90+",
    "described_on": "Business day of the export the type-1 attributes (names, e-mail, birth "
    "date; IBAN, BIC) come from: the newest, for every version",
    "description": "Description",
    "detected_by": "What raised the alert: rules (the Spark rules of model/fraud.py)",
    "direction": "DEBIT (money leaves the account) or CREDIT",
    "disbursement_date_key": "Day the loan was paid out (dim_dates); -1 until then",
    "due_date": "Day the installment fell due",
    "due_date_key": "Day the installment fell due (dim_dates)",
    "email": "Client's e-mail address",
    "eur_per_unit": "Reference rate: EUR per unit of the currency",
    "fee_income": "Fees earned (posted fee transactions and late fees), EUR",
    "fee_part": "Fee part of the installment (e.g. mortgage insurance)",
    "first_name": "Client's first name",
    "fraud_rule": "Strongest fraud rule that fired (see model/fraud.py), empty if none",
    "fraud_score": "Fraud score 0-1 (noisy-or of the rules that fired)",
    "fraud_type": "Kind of fraud suspected: card_testing, velocity, new_country, unusual_amount",
    "french_holiday_name": "Name of the French public holiday, in English; empty on other days",
    "full_date": "The calendar day",
    "fx_rate": "EUR per unit of the posting's currency on the business day",
    "iban": "IBAN (validated: country length and mod-97 check)",
    "installment": "Regular monthly installment (annuity)",
    "installment_id": "Installment id: loan id and installment number",
    "installment_no": "Installment number, 1 = first",
    "interest_income": "Interest earned on loan installments paid, EUR",
    "interest_part": "Interest part of the installment",
    "interest_rate": "Annual interest rate of the account or product",
    "is_business_day": "Neither weekend nor TARGET2 holiday",
    "is_card_not_present": "Payments through this channel are card-not-present",
    "is_complaint": "The response is a complaint",
    "is_current": "This version is the current one",
    "is_fraud_flagged": "Fraud score at or above the alert threshold",
    "is_french_holiday": "French public holiday (national, metropolitan France; informative: "
    "business days follow TARGET2)",
    "is_month_end": "Last day of the month",
    "is_target2_holiday": "TARGET2 closing day (1 Jan, Good Friday, Easter Mon, 1 May, 25-26 Dec)",
    "is_weekend": "Saturday or Sunday",
    "iso_week": "ISO 8601 week number",
    "iso_year": "ISO 8601 week-numbering year",
    "kyc_status": "Know-your-customer status: VERIFIED, PENDING or EXPIRED",
    "landed_at": "When the source file landed in the lake (UTC)",
    "last_name": "Client's last name",
    "late_fee": "Late fee charged with the installment",
    "loan_id": "Loan number (natural key of the loan)",
    "mcc": "ISO 18245 merchant category code",
    "mcc_description": "Merchant category description",
    "merchant_id": "Merchant id at the acquirer",
    "merchant_key": "Key of the merchant (dim_merchants); -1 for postings without a merchant",
    "merchant_name": "Merchant name",
    "minor_units": "Decimals of the currency (ISO 4217 minor units)",
    "month": "Month, 1-12",
    "month_name": "Month name, in English",
    "monthly_fee": "Monthly fee of the product, EUR",
    "nps": "Likelihood to recommend, 0-10",
    "nps_category": "PROMOTER (9-10), PASSIVE (7-8) or DETRACTOR (0-6)",
    "onboarded_at": "Day the client joined the bank",
    "opened_at": "Day the account was opened",
    "operating_cost": "Operating cost allocated to the branch and product, EUR",
    "other_income": "Other income, EUR",
    "outstanding_principal": "Principal still owed after the installments fully paid",
    "overdraft_limit": "Authorized overdraft, in the account's currency",
    "paid_amount": "Amount paid for the installment (including any late fee)",
    "paid_at": "When the installment was paid (UTC); empty if missed",
    "postal_code": "Postal code",
    "posted_at": "When the posting happened (UTC)",
    "previous_version": "The day's master export lacked the account or client (its row was "
    "quarantined): the keys are those of its latest earlier version",
    "principal": "Amount lent",
    "principal_part": "Principal part of the installment",
    "product_code": "Product code (natural key of the product)",
    "product_key": "Key of the product (dim_products); -1 unknown",
    "product_name": "Product name",
    "profit": "revenue - operating_cost - provisions (generated by PostgreSQL)",
    "provisions": "Provisions for doubtful loans, EUR",
    "quarter": "Quarter, 1-4",
    "rate_date": "Day of the reference rate",
    "raw_payload": "The row as landed (CSV line or JSON object)",
    "reason": "Why the row was quarantined, in words a person can act on",
    "record_hash": "xxHash64 of the row as landed, 16 hex digits (lineage; duplicate detection)",
    "record_key": "Natural key of the quarantined row, if it had one",
    "responded_at": "When the survey was answered (UTC)",
    "revenue": "interest_income + fee_income + other_income (generated by PostgreSQL)",
    "risk_rating": "Client risk rating: LOW, MEDIUM or HIGH",
    "row_hash": "SHA-256 of the tracked (SCD2) attributes of the version",
    "rule_id": "Id of the rule that failed (quarantine) or fired (fraud)",
    "score": "Fraud score of the alert, 0-1",
    "segment": "Client segment: RETAIL, PREMIUM, PRIVATE or SME",
    "service": "Service the survey is about",
    "signed_amount": "Amount with its sign: negative for debits",
    "source_file": "Landing file the row came from",
    "source_line": "Line of the landing file (1 = header for CSV)",
    "status": "Status of the row's entity (see the table's check constraint)",
    "survey_id": "Survey response id",
    "survey_key": "Surrogate key of the survey response",
    "term_months": "Loan term in months",
    "transaction_id": "Posting id at the core banking system",
    "transaction_type": "Transaction type code",
    "transaction_type_key": "Key of the transaction type (dim_transaction_types)",
    "transfer_id": "Transfer id: both legs of an internal transfer share it",
    "valid_from": "First day this version is valid",
    "valid_to": "Day this version stops being valid (exclusive); 9999-12-31 if current",
    "version": "Version number of the natural key, 1 = first",
    "year": "Calendar year",
}


def columns(dsn: str) -> dict[str, list[tuple[str, str, bool]]]:
    """Qualified table -> (column, type, generated) in table order, as PostgreSQL has them."""
    Warehouse(dsn).apply_ddl()
    out: dict[str, list[tuple[str, str, bool]]] = {}
    with psycopg.connect(dsn) as conn:
        for qualified, table in TABLES.items():
            out[qualified] = [
                (name, kind, generated == "ALWAYS")
                for name, kind, generated in conn.execute(
                    "select column_name, format_type(a.atttypid, a.atttypmod), c.is_generated "
                    "from information_schema.columns c join pg_attribute a "
                    "on a.attrelid = format('%%I.%%I', c.table_schema, c.table_name)::regclass "
                    "and a.attname = c.column_name "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    (table.schema, table.name),
                )
            ]
    return out


def markdown(dsn: str) -> str:
    lines = [
        "# Data dictionary",
        "",
        "Generated by `bank-assets dictionary` from the warehouse registry "
        "(`bank_assets/model/tables.py`), the DDL in `sql/` as PostgreSQL reports it, and the "
        "column descriptions in `bank_assets/analyst/dictionary.py`. Do not edit by hand.",
        "",
        "Keys ending in `_key` point to the dimension of the same name; -1 is the unknown "
        "member. Money is `numeric(18,2)`. Analysts read the `analyst` schema: one view per "
        "`dw` table with personal data masked, and the views `analyst.v_*` of `sql/views/`.",
        "",
    ]
    for qualified, cols in columns(dsn).items():
        table = TABLES[qualified]
        lines += [
            f"## {qualified}",
            "",
            f"Grain: {table.grain}. Load: {table.load}"
            + (
                ", range-partitioned by date_key (one partition per day)"
                if table.partitioned
                else ""
            )
            + ".",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        for name, kind, generated in cols:
            text = COLUMNS.get(name, "")
            lines.append(f"| {name} | {kind}{' (generated)' if generated else ''} | {text} |")
        lines.append("")
    return "\n".join(lines)
