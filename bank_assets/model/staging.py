"""Raw -> staged: type, normalize to UTC, deduplicate, and quarantine what cannot be trusted.

Pure DataFrame -> DataFrame code. `classify` gives every raw row exactly one disposition:

  staged       typed and clean; goes on to the curated layer
  quarantined  a rule failed; kept with rule id, reason and the raw payload
  duplicate    an exact copy of an earlier row with the same key; dropped and counted

so landed = staged + quarantined + duplicates, by construction (`Outcome.unaccounted` checks it).
Rules are checked in order and the first that fails names the row's reason: malformed line,
missing key, conflicting duplicate (the same key landed with different content: every version
is quarantined, none is guessed right), exact duplicate, for tables with a lookback
(`StagingSpec.lookback_days`) a key already staged on an earlier day (an exact re-delivery is a
duplicate, another content is quarantined), a character PostgreSQL text cannot hold, then the
table's own rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, IntegerType, TimestampType

from bank_assets.model import reference as ref
from bank_assets.model.keys import FX, MONEY, RATE, RAW_LINEAGE, STAGED_LINEAGE
from bank_assets.model.sources import (
    ACCOUNTS,
    BRANCH_PNL,
    CLIENTS,
    FX_RATES,
    LOAN_PAYMENTS,
    LOANS,
    MERCHANTS,
    PRODUCTS,
    SURVEYS,
    TRANSACTIONS,
    SourceTable,
)

STAGED, QUARANTINED, DUPLICATE = "staged", "quarantined", "duplicate"
TYPED_PREFIX = "t__"


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
    # Event tables: a key staged on one of this many earlier days is a re-delivery, not a new
    # row (0: not checked; master data is re-sent whole every day by design).
    lookback_days: int = 0
    kinds: Mapping[str, str] = field(default_factory=dict)  # column -> KINDS key (text unless)


# ---- helpers -------------------------------------------------------------------------------


def text(name: str) -> Column:
    """A landed string, trimmed, with '' as NULL."""
    return F.nullif(F.trim(F.col(name)), F.lit(""))


def typed(name: str) -> Column:
    """The typed (parsed) value of a column, as computed by the table's `typed` expressions."""
    return F.col(f"{TYPED_PREFIX}{name}")


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
            typed(c).isNotNull() & ~typed(c).isin(*codes),
            F.concat(F.lit(f"{c} '"), typed(c), F.lit(f"' is not one of {', '.join(codes)}")),
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
            text(raw).isNotNull() & typed(typed_name).isNull(),
            F.concat(F.lit(f"{raw} '"), F.col(raw), F.lit("' cannot be parsed")),
        )
        for raw, typed_name in pairs.items()
    ]
    return Rule(
        rule_id, f"{', '.join(pairs)} parse", F.coalesce(*checks).isNotNull(), F.coalesce(*checks)
    )


def known_currency(column: str = "currency") -> Rule:
    return Rule(
        "unknown_currency",
        "ISO 4217 currency the bank handles",
        typed(column).isNotNull() & ~typed(column).isin(*ref.CURRENCIES),
        F.concat(F.lit("currency '"), typed(column), F.lit("' is not a known ISO 4217 code")),
    )


def minor_units(currency: Column) -> Column:
    mapping = F.create_map(
        *[x for c, (m, _) in ref.CURRENCIES.items() for x in (F.lit(c), F.lit(m))]
    )
    return mapping[currency]


# ---- the source tables ---------------------------------------------------------------------

AMOUNT_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
ISO_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)


INTEGER_TEXT = r"^-?[0-9]+$"
KINDS: dict[str, Callable[[str], Column]] = {
    "text": text,
    "code": code,
    "date": iso_date,
    "money": lambda n: F.when(text(n).rlike(AMOUNT_TEXT), text(n).try_cast(MONEY)),
    "rate": lambda n: F.when(text(n).rlike(AMOUNT_TEXT), text(n).try_cast(RATE)),
    "fx": lambda n: F.when(text(n).rlike(AMOUNT_TEXT), text(n).try_cast(FX)),
    "int": lambda n: F.when(text(n).rlike(INTEGER_TEXT), text(n).try_cast(IntegerType())),
    # ISO 8601 with Z or an offset -> the UTC instant (the session time zone is UTC).
    "timestamp": lambda n: F.when(text(n).rlike(ISO_INSTANT), text(n).try_cast(TimestampType())),
    "iban": lambda n: F.upper(F.regexp_replace(text(n), r"\s", "")),
    "bool": lambda n: F.when(F.lower(text(n)).isin("true", "false"), F.lower(text(n)) == "true"),
}


# The Spark type each kind gives its column (what `KINDS` casts to), and the staged lineage's:
# the staged tables' column types without a Spark session (their catalog schema).
KIND_TYPES = {
    "text": "string",
    "code": "string",
    "iban": "string",
    "date": DateType().simpleString(),
    "money": MONEY.simpleString(),
    "rate": RATE.simpleString(),
    "fx": FX.simpleString(),
    "int": IntegerType().simpleString(),
    "timestamp": TimestampType().simpleString(),
    "bool": "boolean",
}
LINEAGE_TYPES = {
    "batch_id": "date",
    "source_file": "string",
    "source_line": "bigint",
    "landed_at": "timestamp",
    "record_hash": "string",
}


def staged_types(spec: StagingSpec) -> dict[str, str]:
    """staged/<name>'s columns (`staged_columns`) -> their Spark types."""
    kinds = {c: KIND_TYPES[spec.kinds.get(c, "text")] for c in spec.source.columns}
    return {**kinds, **{c: LINEAGE_TYPES[c] for c in STAGED_LINEAGE}}


def typed_by(source: SourceTable, kinds: Mapping[str, str]) -> Callable[[], dict[str, Column]]:
    """Staged column -> its typed expression, each column by its kind (text unless said)."""
    return lambda: {c: KINDS[kinds.get(c, "text")](c) for c in source.columns}


TRANSACTION_KINDS = dict(
    posted_at="timestamp",
    transaction_type="code",
    channel="code",
    direction="code",
    amount="money",
    currency="code",
    balance_after="money",
    status="code",
    counterparty_iban="iban",
    country="code",
)


# A posting may land up to this many days after its business day (UTC): a Friday posting that
# misses its extract arrives with Monday's file. Older ones are quarantined (outside_business_day).
LATE_POSTING_DAYS = 3


def _transactions_rules(day: date) -> list[Rule]:
    start_of_day = datetime(day.year, day.month, day.day)
    end_of_day = start_of_day + timedelta(days=1)
    earliest = start_of_day - timedelta(days=LATE_POSTING_DAYS)
    decimals = F.length(F.regexp_extract(text("amount"), r"\.([0-9]*)$", 1))
    return [
        missing(
            "account_id",
            "posted_at",
            "transaction_type",
            "direction",
            "amount",
            "currency",
            "status",
        ),
        unparsed("invalid_timestamp", {"posted_at": "posted_at"}),
        Rule(
            "future_timestamp",
            "posted no later than the end of the business day",
            typed("posted_at") >= F.lit(end_of_day),
            F.concat(
                F.lit("posted_at "),
                F.col("posted_at"),
                F.lit(f" is after the end of business day {day} (UTC)"),
            ),
        ),
        Rule(
            "outside_business_day",
            f"posted on the business day or at most {LATE_POSTING_DAYS} days before (late "
            "postings)",
            typed("posted_at") < F.lit(earliest),
            F.concat(
                F.lit("posted_at "),
                F.col("posted_at"),
                F.lit(
                    f" is more than {LATE_POSTING_DAYS} days before business day {day} (UTC): "
                    f"a late posting must be posted on {earliest.date()} or later"
                ),
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
            typed("amount").isNull() | (typed("amount") <= 0),
            F.concat(
                F.lit("amount '"), F.col("amount"), F.lit("' is not a positive decimal number")
            ),
        ),
        Rule(
            "amount_out_of_range",
            f"amount below {ref.MAX_AMOUNT:,} (its EUR value fits numeric(18,2))",
            typed("amount") >= ref.MAX_AMOUNT,
            F.concat(
                F.lit("amount "),
                F.col("amount"),
                F.lit(
                    f" is not below {ref.MAX_AMOUNT:,}: its EUR value could overflow numeric(18,2)"
                ),
            ),
        ),
        Rule(
            "too_many_decimals",
            "amount has no more decimals than the currency's minor units",
            decimals > minor_units(typed("currency")),
            F.concat(
                F.lit("amount "),
                F.col("amount"),
                F.lit(" has more decimals than "),
                typed("currency"),
                F.lit(" allows ("),
                minor_units(typed("currency")).cast("string"),
                F.lit(")"),
            ),
        ),
        unparsed("invalid_balance", {"balance_after": "balance_after"}),
    ]


# ---- master and event tables: typed from a declaration -----------------------------------


def declared(
    source: SourceTable,
    kinds: dict[str, str],
    required: tuple[str, ...],
    codes: dict[str, tuple[str, ...]],
    extra: Callable[[date], list[Rule]] = lambda day: [],
) -> StagingSpec:
    """A staging spec from column kinds (text unless said): each kind types its column, and the
    standard rules follow from the declaration: required fields present, typed values parse,
    codes known, currencies ISO 4217 (a `currency` column), then the table's own rules."""

    def rules(day: date) -> list[Rule]:
        parsed = {c: c for c, k in kinds.items() if k not in ("text", "code", "iban")}
        out = [missing(*required)]
        out += [unparsed("invalid_value", parsed)] if parsed else []
        out += [known_codes(codes)] if codes else []
        out += [known_currency()] if "currency" in source.columns else []
        return out + extra(day)

    return StagingSpec(source, typed_by(source, kinds), rules, kinds=kinds)


def _not_negative(*columns: str) -> Callable[[date], list[Rule]]:
    def rules(day: date) -> list[Rule]:
        checks = [
            F.when(typed(c) < 0, F.concat(F.lit(f"{c} "), F.col(c), F.lit(" is negative")))
            for c in columns
        ]
        return [
            Rule(
                "negative_amount",
                f"{', '.join(columns)} not negative",
                F.coalesce(*checks).isNotNull(),
                F.coalesce(*checks),
            )
        ]

    return rules


def _rate_in_range(column: str) -> Callable[[date], list[Rule]]:
    """A reference rate is positive and believable: 0 (or less) would zero the EUR amounts of a
    currency, and PostgreSQL refuses it (CHECK > 0); above MAX_EUR_PER_UNIT it is a typo."""
    bound = ref.MAX_EUR_PER_UNIT
    return lambda day: [
        Rule(
            "rate_out_of_range",
            f"{column} above 0 and at most {bound:,} EUR per unit",
            (typed(column) <= 0) | (typed(column) > bound),
            F.concat(
                F.lit(f"{column} "),
                F.col(column),
                F.lit(f" is not above 0 and at most {bound} EUR per unit"),
            ),
        )
    ]


STAGING: dict[str, StagingSpec] = {
    "transactions": StagingSpec(
        TRANSACTIONS,
        typed_by(TRANSACTIONS, TRANSACTION_KINDS),
        _transactions_rules,
        # A posting older than the late-posting window is quarantined anyway, so an earlier
        # staging of any posting accepted on a day is on one of these days.
        lookback_days=LATE_POSTING_DAYS,
        kinds=TRANSACTION_KINDS,
    ),
    "clients": declared(
        CLIENTS,
        dict(
            birth_date="date",
            onboarded_at="date",
            segment="code",
            country="code",
            kyc_status="code",
            risk_rating="code",
            status="code",
        ),
        required=("segment", "kyc_status", "risk_rating", "status"),
        codes={
            "segment": ref.SEGMENTS,
            "kyc_status": ref.KYC_STATUSES,
            "risk_rating": ref.RISK_RATINGS,
            "status": ref.CLIENT_STATUSES,
        },
    ),
    "accounts": declared(
        ACCOUNTS,
        dict(
            account_type="code",
            currency="code",
            status="code",
            overdraft_limit="money",
            interest_rate="rate",
            opened_at="date",
            iban="iban",
        ),
        required=("iban", "client_id", "account_type", "currency", "status"),
        codes={"account_type": ref.ACCOUNT_TYPES, "status": ref.ACCOUNT_STATUSES},
    ),
    "products": declared(
        PRODUCTS,
        dict(category="code", interest_rate="rate", monthly_fee="money"),
        required=("product_name", "category"),
        codes={"category": ref.PRODUCT_CATEGORIES},
    ),
    "merchants": declared(
        MERCHANTS,
        dict(mcc="text", country="code"),
        required=("merchant_name", "mcc"),
        codes={"mcc": tuple(ref.MCC)},
    ),
    "fx_rates": declared(
        FX_RATES,
        dict(currency="code", rate_date="date", eur_per_unit="fx"),
        required=("rate_date", "eur_per_unit"),
        codes={},
        extra=_rate_in_range("eur_per_unit"),
    ),
    "loans": declared(
        LOANS,
        dict(
            applied_on="date",
            decision="code",
            decided_on="date",
            disbursed_on="date",
            principal="money",
            currency="code",
            annual_rate="rate",
            term_months="int",
            installment="money",
            outstanding_principal="money",
            days_past_due="int",
            status="code",
        ),
        required=("client_id", "product_code", "applied_on", "principal", "status"),
        codes={"decision": ref.LOAN_DECISIONS, "status": ref.LOAN_STATUSES},
        extra=_not_negative("principal", "outstanding_principal", "days_past_due"),
    ),
    "loan_payments": declared(
        LOAN_PAYMENTS,
        dict(
            installment_no="int",
            due_date="date",
            amount_due="money",
            principal_part="money",
            interest_part="money",
            fee_part="money",
            paid_amount="money",
            late_fee="money",
            paid_at="timestamp",
            status="code",
        ),
        required=("loan_id", "due_date", "amount_due", "status"),
        codes={"status": ref.INSTALLMENT_STATUSES},
        extra=_not_negative("amount_due", "paid_amount", "late_fee"),
    ),
    "branch_pnl": declared(
        BRANCH_PNL,
        dict(
            interest_income="money",
            fee_income="money",
            other_income="money",
            operating_cost="money",
            provisions="money",
        ),
        required=("branch_code", "product_code"),
        codes={},
    ),
    "surveys": declared(
        SURVEYS,
        dict(
            channel="code",
            service="code",
            responded_at="timestamp",
            csat="int",
            nps="int",
            complaint="bool",
        ),
        required=("client_id", "responded_at"),
        codes={"channel": ref.SURVEY_CHANNELS, "service": ref.SURVEY_SERVICES},
        extra=lambda day: [
            Rule(
                "score_out_of_range",
                "CSAT 1-5 and NPS 0-10",
                ~typed("csat").between(1, 5) | ~typed("nps").between(0, 10),
                F.concat(F.lit("csat "), F.col("csat"), F.lit(" / nps "), F.col("nps")),
            )
        ],
    ),
}


# ---- the transform -------------------------------------------------------------------------


def position() -> Column:
    """Where a row landed: (file, line)."""
    return F.struct(F.col("_source_file"), F.col("_line"))


# PostgreSQL text cannot hold NUL (the one character UTF-8 text refuses): COPY would fail.
NUL = "\u0000"
# Rules whose rows are dropped and counted as duplicates, not quarantined.
DROPPED = ("exact_duplicate", "exact_redelivery")


def all_rules(spec: StagingSpec, day: date) -> list[Rule]:
    """A table's rules in the order they are checked: the first that fails is the row's reason.
    Every one but those in DROPPED (dropped and counted) quarantines the row: severity error
    (see `model/quality.py` for the fatal and warn rules)."""
    key = spec.source.key
    redelivery = [
        Rule(
            "exact_redelivery",
            f"a {key} staged on one of the {spec.lookback_days} earlier days is not staged "
            "again (an exact copy is dropped and counted)",
            F.col("_prev_hash") == F.col("record_hash"),
            F.concat(
                F.lit(f"exact copy of {key} "), F.col(key), F.lit(" staged on "), F.col("_prev_day")
            ),
        ),
        Rule(
            "conflicting_redelivery",
            f"one content per {key} across the {spec.lookback_days} earlier days",
            F.col("_prev_day").isNotNull(),
            F.concat(
                F.lit(f"{key} "),
                F.col(key),
                F.lit(" was staged on "),
                F.col("_prev_day").cast("string"),
                F.lit(" with different content (record_hash "),
                F.col("_prev_hash"),
                F.lit(")"),
            ),
        ),
    ]
    nul = [F.when(F.col(c).contains(NUL), F.lit(c)) for c in spec.source.columns]
    return [
        Rule(
            "malformed_line",
            "the line parses into the expected fields",
            F.col("_error").isNotNull(),
            F.concat(
                F.col("_source_file"), F.lit(" line "), F.col("_line"), F.lit(": "), F.col("_error")
            ),
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
            F.col("_lo") != F.col("_hi"),
            F.concat(
                F.lit(f"{key} "), F.col(key), F.lit(" landed more than once with different content")
            ),
        ),
        Rule(
            "exact_duplicate",
            "no exact copies",
            F.col("_n").isNotNull() & (position() != F.col("_first")),
            F.concat(F.lit(f"exact copy of an earlier row with {key} "), F.col(key)),
        ),
        *(redelivery if spec.lookback_days else []),
        Rule(
            "invalid_character",
            "no NUL character in any text field (PostgreSQL text cannot hold it)",
            F.coalesce(*nul).isNotNull(),
            F.concat(
                F.lit("field "),
                F.coalesce(*nul),
                F.lit(" holds a NUL character (shown as \\u0000 in raw_payload)"),
            ),
        ),
        *spec.rules(day),
    ]


def repeated_keys(keys: DataFrame, key: str) -> list[str]:
    """The values of `key` that landed more than once on the day (`keys`: the raw day's key
    column, read on its own). Usually none or few: collected to the driver."""
    counts = keys.where(F.col(key).isNotNull()).groupBy(key).count()
    return [r[key] for r in counts.where(F.col("count") > 1).select(key).collect()]


def classify(
    raw: DataFrame,
    repeats: DataFrame | None,
    spec: StagingSpec,
    day: date,
    earlier: Mapping[str, tuple[str, date]] | None = None,
) -> tuple[DataFrame, dict[str, int]]:
    """Every raw row with its typed values (`t__*`), `_disposition`, `_rule_id` and `_reason`;
    and the rows dropped per rule of DROPPED (exact duplicates, exact re-deliveries: counted
    from the repeated keys, independently of the written outputs, so `landed = staged +
    quarantined + duplicates` is a real check).

    `earlier`: the day's key values already staged on an earlier day (`spark.staged_before`),
    each with the record_hash and day it was staged with. `repeats` are the raw rows whose key
    landed more than once or is in `earlier` (None when there are none; see `repeated_keys` and
    `spark.read_raw`, which reads only those rows). Duplicates are found without shuffling the
    day: a per-key aggregate of those few rows (count, content hashes and first position) is
    collected and broadcast back. Typed values and rule outcomes are computed once per row
    (columns, not repeated expressions), then the first failing rule gives the reason.
    """
    columns = list(spec.source.columns)
    key = spec.source.key
    earlier = earlier or {}
    # 64-bit hash of the record as landed (fields joined with a separator, NULL marked), the
    # content compared between rows of one key and, as 16 hex digits, the row's record_hash.
    content = F.xxhash64(
        F.concat_ws("\u001f", *[F.coalesce(F.col(c), F.lit("\u0000")) for c in columns])
    ).alias("_content")
    typed_values = [expr.alias(f"{TYPED_PREFIX}{name}") for name, expr in spec.typed().items()]
    df = raw.select("*", content, *typed_values).withColumn(
        "record_hash", F.lower(F.lpad(F.hex("_content"), 16, "0"))
    )

    def per_key(rows: DataFrame) -> DataFrame:
        return (
            rows.select("*", content)
            .groupBy(key)
            .agg(
                F.count(F.lit(1)).alias("_n"),
                F.min("_content").alias("_lo"),
                F.max("_content").alias("_hi"),
                F.min(position()).alias("_first"),
            )
            .select(  # the key's earlier staging, filled in on the driver
                "*",
                F.lit(None).cast("string").alias("_prev_hash"),
                F.lit(None).cast(DateType()).alias("_prev_day"),
            )
        )

    schema = per_key(raw).schema  # planned, not run
    # One small job over the few rows of the repeated keys; they come back as a local table.
    keyed = [r.asDict() for r in per_key(repeats).collect()] if repeats is not None else []
    for r in keyed:
        r["_prev_hash"], r["_prev_day"] = earlier.get(r[key], (None, None))
    exact = [r for r in keyed if r["_lo"] == r["_hi"]]  # one content, maybe several copies
    dropped = {"exact_duplicate": sum(r["_n"] - 1 for r in exact)}
    if spec.lookback_days:  # the first copy of a content staged before is a re-delivery
        dropped["exact_redelivery"] = sum(r["_prev_hash"] == record_hash(r["_lo"]) for r in exact)
    if keyed:
        repeated = df.sparkSession.createDataFrame([tuple(r.values()) for r in keyed], schema)
        df = df.join(F.broadcast(repeated), key, "left")
    else:  # no key repeats (the usual day): what the join would give, without a job for it
        df = df.select(
            "*", *[F.lit(None).cast(f.dataType).alias(f.name) for f in schema if f.name != key]
        )
    rules = all_rules(spec, day)
    flags = [f"_failed_{i}" for i in range(len(rules))]
    df = df.select(
        "*", *[F.coalesce(r.failed, F.lit(False)).alias(f) for r, f in zip(rules, flags)]
    )
    rule_id = F.when(F.col(flags[0]), F.lit(rules[0].id))
    reason = F.when(F.col(flags[0]), rules[0].reason)
    for rule, flag in zip(rules[1:], flags[1:]):
        rule_id = rule_id.when(F.col(flag), F.lit(rule.id))
        reason = reason.when(F.col(flag), rule.reason)
    helpers = ("_n", "_lo", "_hi", "_first", "_prev_hash", "_prev_day", "_content", *flags)
    classified = (
        df.select("*", rule_id.alias("_rule_id"), reason.alias("_reason"))
        .drop(*helpers)
        .withColumn(
            "_disposition",
            F.when(F.col("_rule_id").isin(*DROPPED), F.lit(DUPLICATE))
            .when(F.col("_rule_id").isNotNull(), F.lit(QUARANTINED))
            .otherwise(F.lit(STAGED)),
        )
    )
    return classified, dropped


def record_hash(content: int) -> str:
    """A row's record_hash from its 64-bit content hash (as Spark's hex of a long writes it)."""
    return f"{content & 0xFFFFFFFFFFFFFFFF:016x}"


QUARANTINE_COLUMNS = [
    "batch_id",
    "record_key",
    "rule_id",
    "reason",
    "source_file",
    "source_line",
    "landed_at",
    "raw_payload",
    "record_hash",
]


def staged_columns(spec: StagingSpec) -> list[str]:
    return [*spec.typed(), *STAGED_LINEAGE]


def escaped(value: Column) -> Column:
    """Text with each NUL written as \\u0000 (what PostgreSQL text can hold)."""
    return F.replace(value, F.lit(NUL), F.lit("\\u0000"))


def dispose(classified: DataFrame, spec: StagingSpec, day: date) -> DataFrame:
    """What to write: staged columns (typed values and lineage), quarantine columns (rule,
    reason, raw payload) and `_disposition`, which routes each row to its table.

    One projection and no filter, so the rules are evaluated once per row (a filter here would
    be pushed below the projection and evaluate them again). The quarantine's text never holds
    a NUL (PostgreSQL text refuses it): it is written as the six characters \\u0000 (as JSON
    writes it; a raw line's or a key's NUL too).
    """
    payload = F.coalesce(
        escaped(F.col("_raw_line")),
        F.to_json(F.struct(*[F.col(c) for c in spec.source.columns])),
    )
    return classified.select(
        *[typed(name).alias(name) for name in spec.typed()],
        F.lit(day).cast(DateType()).alias("batch_id"),
        *[F.col(landed).alias(staged) for landed, staged in RAW_LINEAGE.items()],
        "record_hash",
        escaped(F.col(spec.source.key)).alias("record_key"),
        F.col("_rule_id").alias("rule_id"),
        escaped(F.col("_reason")).alias("reason"),
        F.when(F.col("_disposition") == QUARANTINED, payload).alias("raw_payload"),
        "_disposition",
    )


@dataclass(frozen=True)
class Outcome:
    """How a day's landed rows were disposed of, and the manifest's count of them."""

    manifest: int  # rows the day's manifest announces
    landed: int
    staged: int
    quarantined: int
    duplicates: int  # dropped: exact duplicates, exact re-deliveries of earlier days' rows included
    rules: dict[str, int]  # quarantined rows per rule
    redelivered: int = 0  # of the duplicates: exact re-deliveries of earlier days' rows

    @property
    def unaccounted(self) -> int:
        """Rows not accounted for (rows_accounted_for, 0 when it holds): landed rows that are
        neither staged, quarantined nor a dropped duplicate, plus the landed rows' difference
        from the manifest's count."""
        disposed = self.staged + self.quarantined + self.duplicates
        return abs(self.landed - disposed) + abs(self.landed - self.manifest)

    def figures(self) -> dict:
        """The day's reconciliation as the check and dq.results show it."""
        return {
            "manifest": self.manifest,
            "landed": self.landed,
            "staged": self.staged,
            "quarantined": self.quarantined,
            "duplicates_dropped": self.duplicates,
            "redelivered": self.redelivered,  # of the duplicates: earlier days' rows
            "accounted_for": self.unaccounted == 0,
        }
