"""Curated -> the five facts, as pure DataFrame -> DataFrame functions.

Each fact takes the dimension rows of its own business day, i.e. the versions valid at the
event time, and the unknown member (-1) where a key does not resolve: facts never hold NULL keys.
Money is decimal(18,2), unsigned, with an explicit direction.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bank_assets.model import fraud
from bank_assets.model import reference as ref
from bank_assets.model.dimensions import KEY_READS, code_key, key_or_unknown, with_earlier, with_key
from bank_assets.model.keys import CURATED_LINEAGE, MONEY, date_key, date_key_of

# What fact_transactions reads of the dimensions (of the day, and of the days before).
ACCOUNT_READS = ("account_id", "account_key", "client_id", "product_code")
CLIENT_READS = KEY_READS["dim_clients"]
FX_READS = ("currency", "eur_per_unit")


def fact_transactions(
    transactions: DataFrame,
    movements: DataFrame,
    accounts: DataFrame,
    earlier_accounts: DataFrame | None,
    clients: DataFrame,
    earlier_clients: DataFrame | None,
    products: DataFrame,
    merchants: DataFrame,
    fx_rates: DataFrame,
    day: date,
) -> DataFrame:
    """Grain: one row per posting on one account (an internal transfer is two rows), scored for
    fraud. The amount in EUR uses the day's reference rate of the posting's currency (none:
    fx_rate and amount_eur stay empty, and the fatal fx_rate_known check stops the load).

    Keys are those of the day's account and client versions; an account or client missing from
    the day's master takes its latest version of the days before (`earlier_*`, see
    `curated.with_earlier`), flagged `previous_version`. `movements` is the same postings
    narrowed to `fraud.COLUMNS` (read apart, so the fraud windows shuffle a few columns instead
    of the wide rows)."""
    acc = (
        with_earlier(accounts.select(*ACCOUNT_READS), earlier_accounts, "account_id")
        .select(
            "account_id",
            "account_key",
            F.col("client_id").alias("_owner"),
            "product_code",
            F.col("previous_version").alias("_previous_account"),
        )
        .join(F.broadcast(products.select("product_code", "product_key")), "product_code", "left")
    )
    cli = with_earlier(clients.select(*CLIENT_READS), earlier_clients, "client_id").select(
        F.col("client_id").alias("_owner"),
        "client_key",
        F.col("previous_version").alias("_previous_client"),
    )
    previous = F.coalesce(F.col("_previous_account"), F.lit(False)) | F.coalesce(
        F.col("_previous_client"), F.lit(False)
    )
    fx = fx_rates.select("currency", F.col("eur_per_unit").alias("fx_rate"))
    signed = F.when(F.col("direction") == "DEBIT", -F.col("amount")).otherwise(F.col("amount"))
    amount_eur = F.round(F.col("amount") * F.col("fx_rate"), 2).cast(MONEY).alias("amount_eur")
    postings = (
        transactions.join(F.broadcast(acc), "account_id", "left")
        .join(F.broadcast(cli), "_owner", "left")
        .join(F.broadcast(merchants.select("merchant_id", "merchant_key")), "merchant_id", "left")
        .join(F.broadcast(fx), "currency", "left")
        .select(
            F.lit(date_key(day)).alias("date_key"),
            "transaction_id",
            "posted_at",
            key_or_unknown("account_key"),
            key_or_unknown("client_key"),
            key_or_unknown("product_key"),
            key_or_unknown("merchant_key"),
            code_key(F.col("transaction_type"), ref.TRANSACTION_TYPES).alias(
                "transaction_type_key"
            ),
            code_key(F.col("channel"), ref.CHANNELS).alias("channel_key"),
            code_key(F.col("currency"), ref.CURRENCIES).alias("currency_key"),
            "account_id",
            F.col("_owner").alias("client_id"),
            previous.alias("previous_version"),
            "transaction_type",
            "channel",
            "direction",
            "amount",
            signed.cast(MONEY).alias("signed_amount"),
            "currency",
            "fx_rate",
            amount_eur,
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
            *CURATED_LINEAGE,
        )
    )
    narrow = movements.join(F.broadcast(fx), "currency", "left").select(
        *[c for c in fraud.COLUMNS if c not in ("amount", "currency")], amount_eur
    )
    scored = fraud.scored(postings, fraud.scores(narrow))
    lineage = list(CURATED_LINEAGE)
    columns = [c for c in scored.columns if c not in lineage]
    return scored.select(*columns, *lineage)


# What an alert carries over from its posting as is.
_POSTING_KEYS = (
    "date_key",
    "transaction_id",
    "posted_at",
    "account_key",
    "client_key",
    "transaction_type_key",
    "channel_key",
)
# The columns of fact_transactions that fact_fraudes reads (the rest is not read from the lake).
FRAUDES_READS = (
    *_POSTING_KEYS,
    "direction",
    "amount_eur",
    "status",
    "fraud_score",
    "fraud_rule",
    "is_fraud_flagged",
    *CURATED_LINEAGE,
)


def fact_fraudes(fact: DataFrame) -> DataFrame:
    """Grain: one row per fraud alert, always one flagged posting of fact_transactions.

    A new alert is OPEN; the amount at risk is the posting's amount in EUR, lost if it was
    posted (a declined debit lost nothing); nothing is recovered yet.
    """
    at_risk = F.col("amount_eur")
    lost = F.when((F.col("status") == "POSTED") & (F.col("direction") == "DEBIT"), at_risk)
    return fact.where("is_fraud_flagged").select(
        F.concat(F.lit("FA-"), F.col("transaction_id")).alias("alert_id"),
        *_POSTING_KEYS,
        F.col("fraud_rule").alias("rule_id"),
        F.lit("rules").alias("detected_by"),
        F.col("fraud_score").alias("score"),
        F.col("fraud_rule").alias("fraud_type"),
        F.lit("OPEN").alias("case_status"),
        at_risk.alias("amount_at_risk"),
        F.coalesce(lost, F.lit(0)).cast(MONEY).alias("amount_lost"),
        F.lit(0).cast(MONEY).alias("amount_recovered"),
        *CURATED_LINEAGE,
    )


def _loan_keys(
    loans: DataFrame, accounts: DataFrame, clients: DataFrame, products: DataFrame
) -> DataFrame:
    """Loans with the keys of their client, disbursement account and product of the day."""
    keyed = with_key(loans, clients, "client_id", "client_key")
    keyed = with_key(keyed, accounts, "account_id", "account_key")
    return with_key(keyed, products, "product_code", "product_key")


def delinquency_bucket(dpd: Column) -> Column:
    return (
        F.when(dpd <= 0, "current")
        .when(dpd <= 30, "1-30")
        .when(dpd <= 60, "31-60")
        .when(dpd <= 90, "61-90")
        .otherwise("90+")
    )


def fact_loans(
    loans: DataFrame, accounts: DataFrame, clients: DataFrame, products: DataFrame, day: date
) -> DataFrame:
    """Grain: one row per loan (accumulating snapshot): milestones as date keys, the amounts
    and the state as of the partition's day."""
    return _loan_keys(loans, accounts, clients, products).select(
        "loan_id",
        F.lit(date_key(day)).alias("date_key"),
        key_or_unknown("client_key"),
        key_or_unknown("account_key"),
        key_or_unknown("product_key"),
        date_key_of("applied_on").alias("application_date_key"),
        date_key_of("decided_on").alias("decision_date_key"),
        date_key_of("disbursed_on").alias("disbursement_date_key"),
        "client_id",
        "product_code",
        "branch_code",
        "decision",
        "status",
        "principal",
        "currency",
        "annual_rate",
        "term_months",
        "installment",
        "outstanding_principal",
        "days_past_due",
        delinquency_bucket(F.col("days_past_due")).alias("delinquency_bucket"),
        *CURATED_LINEAGE,
    )


def fact_payments(
    payments: DataFrame,
    loans: DataFrame,
    accounts: DataFrame,
    clients: DataFrame,
    products: DataFrame,
    day: date,
) -> DataFrame:
    """Grain: one row per loan installment, in the partition of the day it was settled."""
    keyed = _loan_keys(loans, accounts, clients, products).select(
        "loan_id", "client_key", "account_key", "product_key"
    )
    return payments.join(F.broadcast(keyed), "loan_id", "left").select(
        F.lit(date_key(day)).alias("date_key"),
        "installment_id",
        "loan_id",
        key_or_unknown("client_key"),
        key_or_unknown("account_key"),
        key_or_unknown("product_key"),
        date_key_of("due_date").alias("due_date_key"),
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
        F.greatest(F.datediff(F.lit(day), F.col("due_date")), F.lit(0)).alias("days_late"),
        *CURATED_LINEAGE,
    )


def fact_revenue(pnl: DataFrame, products: DataFrame, day: date) -> DataFrame:
    """Grain: one row per day x branch x product (profit is computed by PostgreSQL)."""
    return with_key(pnl, products, "product_code", "product_key").select(
        F.lit(date_key(day)).alias("date_key"),
        "branch_code",
        key_or_unknown("product_key"),
        "product_code",
        "interest_income",
        "fee_income",
        "other_income",
        "operating_cost",
        "provisions",
        *CURATED_LINEAGE,
    )


# ---- column lineage: which input columns each derived fact column is computed from ---------

# (zone, table, column) of a lake table the transform reads
Source = tuple[str, str, str]
_ACCOUNT = ("curated", "dim_accounts")
_CLIENT = ("curated", "dim_clients")
_PRODUCT = ("curated", "dim_products")
_POSTING = ("staged", "transactions")


def _from(table: tuple[str, str], *columns: str) -> tuple[Source, ...]:
    return tuple((*table, c) for c in columns)


def _keyed(natural: tuple[Source, ...], dimension: tuple[str, str], key: str) -> tuple:
    """A key looked up in a dimension by a natural key (or the unknown member)."""
    return (*natural, *_from(dimension, natural[-1][2], key))


# The derived columns of each fact (as written by its transform above): the inputs each one is
# computed from. Columns copied as they are from one input are not listed. The asset catalog
# shows this as Dagster column lineage (builders/catalog.py).
DERIVED: dict[str, dict[str, tuple[Source, ...]]] = {
    "fact_transactions": {
        "account_key": _keyed(_from(_POSTING, "account_id"), _ACCOUNT, "account_key"),
        "client_key": (
            *_from(_POSTING, "account_id"),
            *_from(_ACCOUNT, "account_id", "client_id"),
            *_from(_CLIENT, "client_id", "client_key"),
        ),
        "product_key": (
            *_from(_POSTING, "account_id"),
            *_from(_ACCOUNT, "account_id", "product_code"),
            *_from(_PRODUCT, "product_code", "product_key"),
        ),
        "merchant_key": _keyed(
            _from(_POSTING, "merchant_id"), ("curated", "dim_merchants"), "merchant_key"
        ),
        "transaction_type_key": _from(_POSTING, "transaction_type"),
        "channel_key": _from(_POSTING, "channel"),
        "currency_key": _from(_POSTING, "currency"),
        "client_id": (*_from(_POSTING, "account_id"), *_from(_ACCOUNT, "account_id", "client_id")),
        "signed_amount": _from(_POSTING, "amount", "direction"),
        "fx_rate": (*_from(_POSTING, "currency"), *_from(("staged", "fx_rates"), "eur_per_unit")),
        "amount_eur": (
            *_from(_POSTING, "amount", "currency"),
            *_from(("staged", "fx_rates"), "currency", "eur_per_unit"),
        ),
        **{
            column: (
                *_from(_POSTING, *fraud.COLUMNS),
                *_from(("staged", "fx_rates"), "currency", "eur_per_unit"),
            )
            for column in ("fraud_score", "fraud_rule", "is_fraud_flagged")
        },
    },
    "fact_fraudes": {
        "alert_id": _from(("curated", "fact_transactions"), "transaction_id"),
        "rule_id": _from(("curated", "fact_transactions"), "fraud_rule"),
        "score": _from(("curated", "fact_transactions"), "fraud_score"),
        "fraud_type": _from(("curated", "fact_transactions"), "fraud_rule"),
        "amount_at_risk": _from(("curated", "fact_transactions"), "amount_eur"),
        "amount_lost": _from(("curated", "fact_transactions"), "amount_eur", "status", "direction"),
    },
    "fact_loans": {
        "client_key": _keyed(_from(("staged", "loans"), "client_id"), _CLIENT, "client_key"),
        "account_key": _keyed(_from(("staged", "loans"), "account_id"), _ACCOUNT, "account_key"),
        "product_key": _keyed(_from(("staged", "loans"), "product_code"), _PRODUCT, "product_key"),
        "application_date_key": _from(("staged", "loans"), "applied_on"),
        "decision_date_key": _from(("staged", "loans"), "decided_on"),
        "disbursement_date_key": _from(("staged", "loans"), "disbursed_on"),
        "delinquency_bucket": _from(("staged", "loans"), "days_past_due"),
    },
    "fact_payments": {
        **{
            key: (
                *_from(("staged", "loan_payments"), "loan_id"),
                *_keyed(_from(("staged", "loans"), natural), dimension, key),
            )
            for key, natural, dimension in (
                ("client_key", "client_id", _CLIENT),
                ("account_key", "account_id", _ACCOUNT),
                ("product_key", "product_code", _PRODUCT),
            )
        },
        "due_date_key": _from(("staged", "loan_payments"), "due_date"),
        "days_late": _from(("staged", "loan_payments"), "due_date"),
    },
    "fact_revenue": {
        "product_key": _keyed(
            _from(("staged", "branch_pnl"), "product_code"), _PRODUCT, "product_key"
        ),
    },
}
