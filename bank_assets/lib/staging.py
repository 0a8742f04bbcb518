"""Raw -> staged: type, normalize to UTC, deduplicate, and quarantine what cannot be trusted.

Pure DataFrame -> DataFrame code. `classify` gives every raw row exactly one disposition:

  staged       typed and clean; goes on to the curated layer
  quarantined  a rule failed; kept with rule id, reason and the raw payload
  duplicate    an exact copy of an earlier row with the same key; dropped and counted

so landed = staged + quarantined + duplicates, by construction. Rules are checked in order and the
first that fails names the row's reason: malformed line, missing key, conflicting duplicate (the
same key landed with different content: every version is quarantined, none is guessed right),
exact duplicate, then the table's own rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, DecimalType

from bank_assets.lib import reference as ref
from bank_assets.lib.sources import ACCOUNTS, CLIENTS, TRANSACTIONS, SourceTable

MONEY = DecimalType(18, 2)
RATE = DecimalType(9, 6)
STAGED, QUARANTINED, DUPLICATE = "staged", "quarantined", "duplicate"


@dataclass(frozen=True)
class Rule:
    """A row-level rule: rows where `failed` is true are quarantined with `reason`."""

    id: str
    description: str
    failed: Column
    reason: Column


@dataclass(frozen=True)
class StagingSpec:
    source: SourceTable
    typed: Callable[[], dict[str, Column]]  # staged column -> expression over the raw strings
    rules: Callable[[date], list[Rule]]  # over raw strings and the typed struct `t`


# ---- helpers -------------------------------------------------------------------------------


def text(name: str) -> Column:
    """A landed string, trimmed, with '' as NULL."""
    return F.nullif(F.trim(F.col(name)), F.lit(""))


def code(name: str) -> Column:
    return F.upper(text(name))


def iso_date(name: str) -> Column:
    return F.try_to_date(text(name), "yyyy-MM-dd")


def missing(*names: str) -> Rule:
    """Required fields that are empty."""
    checks = [F.when(text(n).isNull(), F.lit(n)) for n in names]
    return Rule(
        "missing_field",
        f"required fields present: {', '.join(names)}",
        F.coalesce(*checks).isNotNull(),
        F.concat(F.lit("missing required field(s): "), F.concat_ws(", ", *checks)),
    )


def known_codes(columns: dict[str, tuple[str, ...]]) -> Rule:
    """Coded fields hold one of their known codes (NULL is left to `missing`)."""
    checks = [
        F.when(
            F.col(f"t.{c}").isNotNull() & ~F.col(f"t.{c}").isin(*codes),
            F.concat(F.lit(f"{c} '"), F.col(f"t.{c}"), F.lit(f"' is not one of {', '.join(codes)}")),
        )
        for c, codes in columns.items()
    ]
    return Rule(
        "invalid_code",
        "coded fields hold a known code",
        F.coalesce(*checks).isNotNull(),
        F.coalesce(*checks),
    )


def unparsed(rule_id: str, pairs: dict[str, str]) -> Rule:
    """Fields present as text whose typed value could not be parsed."""
    checks = [
        F.when(
            text(raw).isNotNull() & F.col(f"t.{typed}").isNull(),
            F.concat(F.lit(f"{raw} '"), F.col(raw), F.lit("' cannot be parsed")),
        )
        for raw, typed in pairs.items()
    ]
    return Rule(rule_id, f"{', '.join(pairs)} parse", F.coalesce(*checks).isNotNull(), F.coalesce(*checks))


def known_currency(column: str = "currency") -> Rule:
    return Rule(
        "unknown_currency",
        "ISO 4217 currency the bank handles",
        F.col(f"t.{column}").isNotNull() & ~F.col(f"t.{column}").isin(*ref.CURRENCIES),
        F.concat(F.lit("currency '"), F.col(f"t.{column}"), F.lit("' is not a known ISO 4217 code")),
    )


def minor_units(currency: Column) -> Column:
    mapping = F.create_map(*[x for c, (m, _) in ref.CURRENCIES.items() for x in (F.lit(c), F.lit(m))])
    return mapping[currency]


# ---- the source tables ---------------------------------------------------------------------

AMOUNT_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"


def _transactions_typed() -> dict[str, Column]:
    return {
        "transaction_id": text("transaction_id"),
        "account_id": text("account_id"),
        # ISO 8601 with Z or an offset; the session time zone is UTC, so this is the UTC instant.
        "posted_at": F.try_to_timestamp(text("posted_at"), F.lit("yyyy-MM-dd'T'HH:mm:ssXXX")),
        "transaction_type": code("transaction_type"),
        "channel": code("channel"),
        "direction": code("direction"),
        "amount": F.when(text("amount").rlike(AMOUNT_TEXT), text("amount").try_cast(MONEY)),
        "currency": code("currency"),
        "balance_after": F.when(
            text("balance_after").rlike(AMOUNT_TEXT), text("balance_after").try_cast(MONEY)
        ),
        "status": code("status"),
        "merchant_name": text("merchant_name"),
        "mcc": text("mcc"),
        "counterparty_iban": F.upper(F.regexp_replace(text("counterparty_iban"), r"\s", "")),
        "transfer_id": text("transfer_id"),
        "card_masked": text("card_masked"),
        "country": code("country"),
        "description": text("description"),
    }


def _transactions_rules(day: date) -> list[Rule]:
    end_of_day = datetime(day.year, day.month, day.day) + timedelta(days=1)
    decimals = F.length(F.regexp_extract(text("amount"), r"\.([0-9]*)$", 1))
    return [
        missing("account_id", "posted_at", "transaction_type", "direction", "amount", "currency", "status"),
        unparsed("invalid_timestamp", {"posted_at": "posted_at"}),
        Rule(
            "future_timestamp",
            "posted no later than the end of the business day",
            F.col("t.posted_at") >= F.lit(end_of_day),
            F.concat(
                F.lit("posted_at "),
                F.col("posted_at"),
                F.lit(f" is after the end of business day {day} (UTC)"),
            ),
        ),
        known_codes(
            {
                "transaction_type": tuple(ref.TRANSACTION_TYPES),
                "channel": ref.CHANNELS,
                "direction": ref.DIRECTIONS,
                "status": ref.TRANSACTION_STATUSES,
            }
        ),
        known_currency(),
        Rule(
            "invalid_amount",
            "amount is a positive decimal number",
            F.col("t.amount").isNull() | (F.col("t.amount") <= 0),
            F.concat(F.lit("amount '"), F.col("amount"), F.lit("' is not a positive decimal number")),
        ),
        Rule(
            "too_many_decimals",
            "amount has no more decimals than the currency's minor units",
            decimals > minor_units(F.col("t.currency")),
            F.concat(
                F.lit("amount "),
                F.col("amount"),
                F.lit(" has more decimals than "),
                F.col("t.currency"),
                F.lit(" allows ("),
                minor_units(F.col("t.currency")).cast("string"),
                F.lit(")"),
            ),
        ),
        unparsed("invalid_balance", {"balance_after": "balance_after"}),
    ]


def _clients_typed() -> dict[str, Column]:
    typed = {c: text(c) for c in CLIENTS.columns}
    typed.update(
        birth_date=iso_date("birth_date"),
        onboarded_at=iso_date("onboarded_at"),
        segment=code("segment"),
        country=code("country"),
        kyc_status=code("kyc_status"),
        risk_rating=code("risk_rating"),
        status=code("status"),
    )
    return typed


def _clients_rules(day: date) -> list[Rule]:
    return [
        missing("segment", "kyc_status", "risk_rating", "status"),
        unparsed("invalid_date", {"birth_date": "birth_date", "onboarded_at": "onboarded_at"}),
        known_codes(
            {
                "segment": ref.SEGMENTS,
                "kyc_status": ref.KYC_STATUSES,
                "risk_rating": ref.RISK_RATINGS,
                "status": ref.CLIENT_STATUSES,
            }
        ),
    ]


def _accounts_typed() -> dict[str, Column]:
    typed = {c: text(c) for c in ACCOUNTS.columns}
    typed.update(
        iban=F.upper(F.regexp_replace(text("iban"), r"\s", "")),
        account_type=code("account_type"),
        currency=code("currency"),
        status=code("status"),
        overdraft_limit=text("overdraft_limit").try_cast(MONEY),
        interest_rate=text("interest_rate").try_cast(RATE),
        opened_at=iso_date("opened_at"),
    )
    return typed


def _accounts_rules(day: date) -> list[Rule]:
    return [
        missing("iban", "client_id", "account_type", "currency", "status"),
        unparsed(
            "invalid_value",
            {"overdraft_limit": "overdraft_limit", "interest_rate": "interest_rate", "opened_at": "opened_at"},
        ),
        known_codes({"account_type": ref.ACCOUNT_TYPES, "status": ref.ACCOUNT_STATUSES}),
        known_currency(),
    ]


STAGING: dict[str, StagingSpec] = {
    "transactions": StagingSpec(TRANSACTIONS, _transactions_typed, _transactions_rules),
    "clients": StagingSpec(CLIENTS, _clients_typed, _clients_rules),
    "accounts": StagingSpec(ACCOUNTS, _accounts_typed, _accounts_rules),
}


# ---- the transform -------------------------------------------------------------------------


def classify(raw: DataFrame, spec: StagingSpec, day: date) -> DataFrame:
    """Every raw row with its typed values (`t`), `_disposition`, `_rule_id` and `_reason`."""
    columns = list(spec.source.columns)
    key = spec.source.key
    record_hash = F.sha2(
        F.concat_ws("\u001f", *[F.coalesce(F.col(c), F.lit("\u0000")) for c in columns]), 256
    )
    typed = F.struct(*[expr.alias(name) for name, expr in spec.typed().items()])
    df = raw.withColumn("record_hash", record_hash).withColumn("t", typed)
    by_key = Window.partitionBy(key)
    by_content = Window.partitionBy(key, "record_hash").orderBy("_source_file", "_line")
    df = (
        df.withColumn(
            "_conflict", F.min("record_hash").over(by_key) != F.max("record_hash").over(by_key)
        )
        .withColumn("_copy", F.row_number().over(by_content) - 1)
    )
    rules = [
        Rule(
            "malformed_line",
            "the line parses into the expected fields",
            F.col("_error").isNotNull(),
            F.concat(F.col("_source_file"), F.lit(" line "), F.col("_line"), F.lit(": "), F.col("_error")),
        ),
        Rule(
            "missing_key",
            f"{key} present",
            text(key).isNull(),
            F.lit(f"missing required field(s): {key}"),
        ),
        Rule(
            "conflicting_duplicate",
            f"one content per {key}",
            F.col("_conflict"),
            F.concat(F.lit(f"{key} "), F.col(key), F.lit(" landed more than once with different content")),
        ),
        Rule(
            "exact_duplicate",
            "no exact copies",
            F.col("_copy") > 0,
            F.concat(F.lit(f"exact copy of an earlier row with {key} "), F.col(key)),
        ),
        *spec.rules(day),
    ]
    rule_id = F.coalesce(*[F.when(r.failed, F.lit(r.id)) for r in rules])
    reason = F.coalesce(*[F.when(r.failed, r.reason) for r in rules])
    return (
        df.withColumn("_rule_id", rule_id)
        .withColumn("_reason", reason)
        .withColumn(
            "_disposition",
            F.when(F.col("_rule_id") == "exact_duplicate", F.lit(DUPLICATE))
            .when(F.col("_rule_id").isNotNull(), F.lit(QUARANTINED))
            .otherwise(F.lit(STAGED)),
        )
    )


def staged_rows(classified: DataFrame, day: date) -> DataFrame:
    """The clean rows: typed columns plus lineage."""
    return classified.where(F.col("_disposition") == STAGED).select(
        "t.*",
        F.lit(day).cast(DateType()).alias("batch_id"),
        F.col("_source_file").alias("source_file"),
        F.col("_line").alias("source_line"),
        F.col("_landed_at").alias("landed_at"),
        "record_hash",
    )


def quarantine_rows(classified: DataFrame, spec: StagingSpec, day: date) -> DataFrame:
    """The quarantined rows: rule, reason, where they came from and the raw payload."""
    payload = F.coalesce(
        F.col("_raw_line"), F.to_json(F.struct(*[F.col(c) for c in spec.source.columns]))
    )
    return classified.where(F.col("_disposition") == QUARANTINED).select(
        F.lit(day).cast(DateType()).alias("batch_id"),
        F.col(spec.source.key).alias("record_key"),
        F.col("_rule_id").alias("rule_id"),
        F.col("_reason").alias("reason"),
        F.col("_source_file").alias("source_file"),
        F.col("_line").alias("source_line"),
        F.col("_landed_at").alias("landed_at"),
        payload.alias("raw_payload"),
        "record_hash",
    )


def disposition_counts(classified: DataFrame) -> dict[str, int]:
    counts = {STAGED: 0, QUARANTINED: 0, DUPLICATE: 0}
    for row in classified.groupBy("_disposition").count().collect():
        counts[row["_disposition"]] = row["count"]
    return counts


def rule_counts(classified: DataFrame) -> dict[str, int]:
    rows = classified.where(F.col("_rule_id").isNotNull()).groupBy("_rule_id").count().collect()
    return {r["_rule_id"]: r["count"] for r in rows}
