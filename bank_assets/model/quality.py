"""Data-quality rules in one place, as Pandera schemas over the day's Parquet.

Every rule has an id, a severity and a description, and a row-level predicate (a polars
expression, True where the row satisfies it). `schema(table, day)` generates the table's Pandera
schema from its rules (one `pa.Check` per rule) and `validate` runs it lazily over the day's rows
and turns Pandera's failure cases into one `Result` per rule: rows checked, rows failed, a sample.
A day is checked in parts of bounded size (`tally` per part, `results` over the parts): a rule
that compares rows (`Rule.over`: a key's rows, a window) sees all rows of a value together.
Rules of warehouse tables are SQL predicates (`Rule.sql`), run as aggregates in PostgreSQL.
A rule may also read another table of the same day (`Rule.reads`: the EUR limits of postings use
the day's staged fx_rates); the check builder reads it from the lake and passes it in.
The Dagster asset checks (`builders/checks.py`) are generated from the same catalogue, and so are
those of the day-level rules (`DAY_RULES`: reconciliations, volume, fraud rate).

Severities:
  fatal  the check is blocking: when more than `tolerance` of the rows fail, nothing downstream of
         the table is built for the day (orphan keys tolerate 0.1%)
  error  rows breaking it are quarantined by staging (Spark, `model/staging.py`, in the same pass
         that types the rows: `quarantined_as` names that rule); the rule here checks that the
         staged rows keep it, and its check reports how many rows were quarantined
  warn   rows are kept and a warning is recorded (dq.alerts) for a person to look at

Why polars on the driver and not pandera.pyspark: the checks read a few columns of one day's
Parquet (1,000,000 postings: read 0.14 s, every staged transactions rule 1.5 s on this machine),
while pandera.pyspark took 1.6-3.0 s for just five built-in column checks on the same rows,
cached, without reporting failing rows (README, Performance). Checked in parts of bounded size,
the driver keeps that speed and its memory stops growing with the day (measured: the staged
transactions' checks peak at 0.7 GB for 1M rows and 0.9 GB for 5M, 1.2 GB and 4.4 GB read whole;
docs/performance.md, "The asset checks").
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandera.polars as pa
import polars as pl

from bank_assets.model import cards
from bank_assets.model import reference as ref
from bank_assets.model.iban import is_valid_iban
from bank_assets.model.sources import SOURCES
from bank_assets.model.staging import LATE_POSTING_DAYS, NUL

FATAL, ERROR, WARN = "fatal", "error", "warn"
# The day's rows of the other tables a table's rules read (`Rule.reads`), by table; a table not
# there for the day (not staged yet, or its file failed) is absent.
Inputs = Mapping[str, pl.DataFrame]
SAMPLE_ROWS = 5
SAMPLE_GROUPS = 100  # a rule reported per group lists at most this many groups
# A day is checked in parts: the rules of a row on parts of about PART_ROWS rows as read, the
# rules with `over` on buckets of about BUCKET_ROWS rows (of their key's hash: each bucket holds
# every row of its values), so the driver's memory is bounded, whatever the day's size.
PART_ROWS = 250_000
BUCKET_ROWS = 1_000_000
ROW = "_row"  # a row's position in the day, in a part: samples show the day's first failing rows


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # fatal | error | warn
    description: str
    # per row: True where the rule holds, given the day's rows and its other inputs (`reads`)
    passes: Callable[[pl.LazyFrame, date, Inputs], pl.Expr] | None
    columns: tuple[str, ...]  # what it reads (and what a failing sample shows)
    tolerance: float = 0.0  # share of rows that may fail before the check fails
    quarantined_as: str | None = None  # error rules: the staging rule that quarantines them
    # failing rows reported per value of this column (the sample: each value and its rows)
    group_by: str | None = None
    # other tables of the same day it reads ("staged/fx_rates") -> their columns
    reads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the columns whose rows the predicate compares (a key, a window's partition): the rows of
    # a value are checked together; empty: each row on its own
    over: tuple[str, ...] = ()
    # a warehouse table's rule instead: a PostgreSQL boolean expression per row (window
    # functions allowed), True where it holds; failing rows sampled in `columns` order
    sql: str | None = None


@dataclass(frozen=True)
class Result:
    """One rule over one table's day: what the check reports and dq.results keeps."""

    table: str  # "staged/transactions"
    rule_id: str
    severity: str
    description: str
    day: date
    checked: int
    failed: int
    sample: list[dict] = field(default_factory=list)
    tolerance: float = 0.0
    quarantined: int | None = None  # error rules: rows staging quarantined for it
    group_by: str | None = None  # the sample lists failing rows per value of this column

    @property
    def failed_pct(self) -> float:
        return round(100.0 * self.failed / self.checked, 4) if self.checked else 0.0

    @property
    def passed(self) -> bool:
        return self.failed <= self.tolerance * self.checked


def rule(
    id: str,
    severity: str,
    description: str,
    columns: Sequence[str],
    passes: pl.Expr | Callable[[pl.LazyFrame, date, Inputs], pl.Expr],
    tolerance: float = 0.0,
    quarantined_as: str | None = None,
    group_by: str | None = None,
    reads: Mapping[str, tuple[str, ...]] | None = None,
    over: Sequence[str] = (),
) -> Rule:
    fn = passes if callable(passes) else (lambda lf, day, inputs, e=passes: e)
    return Rule(
        id,
        severity,
        description,
        fn,
        tuple(columns),
        tolerance,
        quarantined_as,
        group_by,
        dict(reads or {}),
        tuple(over),
    )


# ---- rule builders ---------------------------------------------------------------------------


def key_unique(*key: str) -> Rule:
    present = pl.all_horizontal([pl.col(k).is_not_null() for k in key])
    unique = pl.struct(key).is_unique() if len(key) > 1 else pl.col(key[0]).is_unique()
    return rule(
        "key_unique", FATAL, f"{', '.join(key)} present and unique", key, present & unique, over=key
    )


def keys_resolve(keys: Sequence[str], optional: dict[str, str] | None = None) -> Rule:
    """Surrogate keys point at a dimension row (-1 is the unknown member, an orphan). An
    `optional` key only has to resolve when its natural key (the dict value) is present."""
    optional = optional or {}
    checks = [pl.col(k).fill_null(-1) != -1 for k in keys]
    checks += [(pl.col(k).fill_null(-1) != -1) | pl.col(n).is_null() for k, n in optional.items()]
    return rule(
        "keys_resolve",
        FATAL,
        "every dimension key resolves (orphans, the unknown member -1, above 0.1% are fatal)",
        [*keys, *optional, *optional.values()],
        pl.all_horizontal(checks),
        tolerance=0.001,
    )


def _no_card_number(values: pl.Series) -> pl.Series:
    """True where a text value holds no card number (model/cards.py): screened by the vectorized
    prefilter, the few candidates checked exactly."""
    ok = pl.Series(values.name, [True] * len(values), dtype=pl.Boolean)
    where = values.str.contains(cards.PREFILTER).fill_null(False).arg_true()
    if len(where):
        found = [not cards.contains_card_number(v) for v in values.gather(where).to_list()]
        ok = ok.scatter(where, found)
    return ok


def _every_text_column(
    columns: Sequence[str], holds: Callable[[str], pl.Expr]
) -> Callable[[pl.LazyFrame, date, Inputs], pl.Expr]:
    """A row predicate: `holds(column)` in each of `columns` that is text in the frame."""

    def passes(lf: pl.LazyFrame, day: date, inputs: Inputs) -> pl.Expr:
        schema = lf.collect_schema()
        text = [c for c in columns if schema.get(c) == pl.String]
        return pl.all_horizontal(pl.lit(True), *[holds(c) for c in text])

    return passes


def no_card_numbers(columns: Sequence[str]) -> Rule:
    """No card number (model/cards.py) in any text column of the landed fields. Card numbers are
    masked at landing, so this guard should never fire: if it does, a path stores them raw."""
    passes = _every_text_column(
        columns, lambda c: pl.col(c).map_batches(_no_card_number, return_dtype=pl.Boolean)
    )
    return rule(
        "no_card_numbers",
        FATAL,
        "no raw card number (a Luhn-valid 13-19 digit run with a card prefix, whatever "
        "separates its digits) in any text column",
        columns,
        passes,
    )


def no_invalid_characters(columns: Sequence[str]) -> Rule:
    """No NUL (which PostgreSQL text cannot hold) in any text column."""
    passes = _every_text_column(columns, lambda c: ~pl.col(c).str.contains(NUL, literal=True))
    return rule(
        "no_invalid_characters",
        ERROR,
        "no NUL character in any text column (PostgreSQL text cannot hold it)",
        columns,
        passes,
        quarantined_as="invalid_character",
    )


def iban_valid(column: str, severity: str) -> Rule:
    return rule(
        f"{column}_valid",
        severity,
        f"{column}, when present, is an IBAN: format, length per country and mod-97 checksum",
        [column],
        pl.col(column).map_elements(is_valid_iban, return_dtype=pl.Boolean, skip_nulls=True),
    )


def not_negative(*columns: str) -> Rule:
    return rule(
        "not_negative",
        ERROR,
        f"{', '.join(columns)} not negative",
        columns,
        pl.all_horizontal([pl.col(c) >= 0 for c in columns]),
        quarantined_as="negative_amount",
    )


FX_RATES = "staged/fx_rates"


def _eur(amount: str, currency: str, fx_rates: pl.DataFrame | None) -> pl.Expr:
    """`amount` in EUR at the day's staged reference rate of its `currency` (EUR is 1 unless the
    day's rates say otherwise). A currency without a rate that day gives NULL: not judged (the
    fact's fatal fx_rate_known check stops such postings)."""
    per_unit = {"EUR": 1.0}
    if fx_rates is not None:
        known = fx_rates.drop_nulls("currency")
        rates = known["eur_per_unit"].cast(pl.Float64).to_list()
        per_unit |= dict(zip(known["currency"].to_list(), rates, strict=True))
    return pl.col(amount).cast(pl.Float64) * pl.col(currency).replace_strict(
        per_unit, default=None, return_dtype=pl.Float64
    )


def _within_type_limit(lf: pl.LazyFrame, day: date, inputs: Inputs) -> pl.Expr:
    limit = pl.col("transaction_type").replace_strict(
        ref.TYPE_LIMITS_EUR, default=None, return_dtype=pl.Float64
    )
    return _eur("amount", "currency", inputs.get(FX_RATES)) <= limit


def _start_of_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _end_of_day(day: date) -> datetime:
    return _start_of_day(day) + timedelta(days=1)


def _minor_units_kept(amount: str, currency: str) -> pl.Expr:
    """No more decimals than the currency allows (staged money has 2: only 0-decimal
    currencies can break it)."""
    minor = pl.col(currency).replace_strict(
        {c: m for c, (m, _) in ref.CURRENCIES.items()}, default=2, return_dtype=pl.Int32
    )
    value = pl.col(amount).cast(pl.Float64)
    return (minor >= 2) | (value == value.round(0))


# ---- the catalogue ---------------------------------------------------------------------------


def _staged(name: str, *extra: Rule) -> tuple[str, tuple[Rule, ...]]:
    source = SOURCES[name]
    return f"staged/{name}", (
        key_unique(source.key),
        no_card_numbers(source.columns),
        no_invalid_characters(source.columns),
        *extra,
    )


TRANSACTION_RULES = (
    rule(
        "amount_positive",
        ERROR,
        "amount > 0",
        ["amount"],
        pl.col("amount") > 0,
        quarantined_as="invalid_amount",
    ),
    rule(
        "currency_minor_units",
        ERROR,
        "amount has no more decimals than its currency allows",
        ["amount", "currency"],
        _minor_units_kept("amount", "currency"),
        quarantined_as="too_many_decimals",
    ),
    rule(
        "not_in_future",
        ERROR,
        "posted_at no later than the end of the business day, UTC",
        ["posted_at"],
        lambda lf, day, inputs: pl.col("posted_at") < _end_of_day(day),
        quarantined_as="future_timestamp",
    ),
    rule(
        "within_late_posting_window",
        ERROR,
        f"posted_at no earlier than {LATE_POSTING_DAYS} days before the business day, UTC "
        "(late postings)",
        ["posted_at"],
        lambda lf, day, inputs: (
            pl.col("posted_at") >= _start_of_day(day) - timedelta(days=LATE_POSTING_DAYS)
        ),
        quarantined_as="outside_business_day",
    ),
    rule(
        "amount_below_max",
        ERROR,
        f"amount below {ref.MAX_AMOUNT:,}, so that its EUR value fits numeric(18,2)",
        ["amount"],
        pl.col("amount") < ref.MAX_AMOUNT,
        quarantined_as="amount_out_of_range",
    ),
    rule(
        "amount_within_type_limit",
        WARN,
        "amount in EUR, at the day's staged fx_rates, within its transaction type's limit "
        "(reference.TYPE_LIMITS_EUR): outliers are flagged, not dropped",
        ["transaction_id", "transaction_type", "amount", "currency"],
        _within_type_limit,
        reads={FX_RATES: ("currency", "eur_per_unit")},
    ),
    iban_valid("counterparty_iban", WARN),
)

FACT_TRANSACTION_RULES = (
    key_unique("transaction_id"),
    rule(
        "fx_rate_known",
        FATAL,
        "every posting's currency has a reference rate for the day (no amount_eur left empty): "
        "the failing currencies are listed with their postings",
        ["transaction_id", "currency", "fx_rate"],
        pl.col("fx_rate").is_not_null(),
        group_by="currency",
    ),
    keys_resolve(
        [
            "account_key",
            "client_key",
            "product_key",
            "transaction_type_key",
            "channel_key",
            "currency_key",
        ],
        optional={"merchant_key": "merchant_id"},
    ),
    rule(
        "master_version_of_the_day",
        WARN,
        "the posting's account and client are in the day's master exports; a posting whose "
        "account or client row was quarantined that day takes its latest earlier version "
        "(previous_version): listed per client",
        ["transaction_id", "account_id", "client_id", "previous_version"],
        ~pl.col("previous_version"),
        group_by="client_id",
    ),
    rule(
        "transfer_legs_pair",
        WARN,
        "an internal transfer (a transfer_id posted more than once) is two legs that sum to zero",
        ["transaction_id", "transfer_id", "account_id", "signed_amount"],
        # a transfer_id seen once is a transfer with another bank (one leg here)
        pl.col("transfer_id").is_null()
        | (pl.len().over("transfer_id") == 1)
        | (
            (pl.len().over("transfer_id") == 2)
            & (pl.col("signed_amount").sum().over("transfer_id") == 0)
        ),
        over=["transfer_id"],
    ),
    rule(
        "balance_chain",
        WARN,
        "balance_after = the account's previous balance_after of the day + the posted amount "
        "(declined postings move nothing), exact to the cent",
        ["transaction_id", "account_id", "posted_at", "status", "signed_amount", "balance_after"],
        (
            pl.col("balance_after").shift(1)
            + pl.when(pl.col("status") == "POSTED").then(pl.col("signed_amount")).otherwise(0)
            == pl.col("balance_after")
        ).over("account_id", order_by=["posted_at", "transaction_id"]),
        over=["account_id"],
    ),
)


REVENUE_PARTS = ("interest_income", "fee_income", "other_income", "operating_cost", "provisions")


def scd2_rules(natural: str) -> tuple[Rule, ...]:
    """SCD2 integrity of a dimension as loaded in PostgreSQL (every version of every key), as
    SQL: the whole history is checked where it is, only figures and a sample leave the server."""
    ordered = f"over (partition by {natural} order by valid_from)"
    return (
        Rule(
            "one_current_version",
            FATAL,
            f"exactly one current version per {natural}",
            None,
            (natural, "is_current"),
            sql=f"count(*) filter (where is_current) over (partition by {natural}) = 1",
        ),
        Rule(
            "versions_chain",
            FATAL,
            "versions numbered 1..n in validity order, each valid until the next begins (no gap, "
            "no overlap); only the last is current and open-ended (9999-12-31)",
            None,
            (natural, "version", "valid_from", "valid_to", "is_current"),
            sql=f"version = row_number() {ordered} and case when is_current "
            f"then valid_to = date '9999-12-31' else valid_to = lead(valid_from) {ordered} end",
        ),
    )


CATALOGUE: dict[str, tuple[Rule, ...]] = dict(
    [
        _staged("transactions", *TRANSACTION_RULES),
        _staged("clients"),
        _staged(
            "accounts",
            iban_valid("iban", WARN),
            rule(
                "bic_format",
                WARN,
                "BIC: 4-letter bank, 2-letter country, 2 location and optional 3 branch characters",
                ["bic"],
                pl.col("bic").str.contains(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$"),
            ),
            rule(
                "overdraft_not_negative",
                WARN,
                "overdraft_limit not negative",
                ["account_id", "overdraft_limit"],
                pl.col("overdraft_limit") >= 0,
            ),
        ),
        _staged("products"),
        _staged("merchants"),
        _staged(
            "fx_rates",
            rule(
                "rate_in_range",
                ERROR,
                f"eur_per_unit above 0 and at most {ref.MAX_EUR_PER_UNIT:,} EUR per unit",
                ["currency", "eur_per_unit"],
                (pl.col("eur_per_unit") > 0) & (pl.col("eur_per_unit") <= ref.MAX_EUR_PER_UNIT),
                quarantined_as="rate_out_of_range",
            ),
        ),
        _staged(
            "loans",
            not_negative("principal", "outstanding_principal", "days_past_due"),
            rule(
                "outstanding_within_principal",
                WARN,
                "outstanding principal no more than the principal lent",
                ["loan_id", "principal", "outstanding_principal"],
                pl.col("outstanding_principal") <= pl.col("principal"),
            ),
        ),
        _staged(
            "loan_payments",
            not_negative("amount_due", "paid_amount", "late_fee"),
            rule(
                "installment_arithmetic",
                FATAL,
                "amount_due = principal_part + interest_part + fee_part (the warehouse's CHECK "
                "would refuse the day's load)",
                ["installment_id", "amount_due", "principal_part", "interest_part", "fee_part"],
                pl.col("amount_due")
                == pl.col("principal_part") + pl.col("interest_part") + pl.col("fee_part"),
            ),
        ),
        _staged("branch_pnl"),
        ("curated/fact_transactions", FACT_TRANSACTION_RULES),
        (
            "curated/fact_fraudes",
            (
                key_unique("alert_id"),
                rule(
                    "linked_to_transaction",
                    FATAL,
                    "every alert names the posting it flags",
                    ["alert_id", "transaction_id"],
                    pl.col("transaction_id").is_not_null(),
                ),
                keys_resolve(["account_key", "client_key"]),
            ),
        ),
        (
            "curated/fact_loans",
            (
                key_unique("loan_id"),
                keys_resolve(["client_key", "product_key"]),
                rule(
                    "loan_arithmetic",
                    WARN,
                    "0 <= outstanding principal <= principal, and a disbursed loan's installments "
                    "cover its principal",
                    ["loan_id", "principal", "outstanding_principal", "installment", "term_months"],
                    pl.col("outstanding_principal").is_between(0, pl.col("principal"))
                    & (
                        pl.col("installment").is_null()
                        | (pl.col("installment") * pl.col("term_months") >= pl.col("principal"))
                    ),
                ),
            ),
        ),
        (
            "curated/fact_payments",
            (
                key_unique("installment_id"),
                keys_resolve(["client_key", "product_key"]),
            ),
        ),
        (
            "curated/fact_revenue",
            (
                key_unique("date_key", "branch_code", "product_key"),
                keys_resolve(["product_key"]),
                rule(
                    "revenue_parts_not_negative",
                    WARN,
                    "incomes, operating cost and provisions not negative (profit = revenue - "
                    "cost - provisions is a generated column in PostgreSQL)",
                    ["branch_code", "product_code", *REVENUE_PARTS],
                    pl.all_horizontal(pl.col(*REVENUE_PARTS) >= 0),
                ),
            ),
        ),
        ("curated/dim_satisfaction", (keys_resolve(["client_key"]),)),
        ("warehouse/dim_clients", scd2_rules("client_id")),
        ("warehouse/dim_accounts", scd2_rules("account_id")),
        _staged(
            "surveys",
            rule(
                "scores_in_range",
                ERROR,
                "CSAT 1-5 and NPS 0-10",
                ["csat", "nps"],
                pl.col("csat").is_between(1, 5) & pl.col("nps").is_between(0, 10),
                quarantined_as="score_out_of_range",
            ),
        ),
    ]
)


def checked_columns(table: str, rules: Sequence[Rule] | None = None) -> list[str]:
    """The columns `rules` (all of the table's by default) read."""
    rules = CATALOGUE[table] if rules is None else rules
    return list(dict.fromkeys(c for r in rules for c in r.columns))


def partitions(table: str) -> dict[tuple[str, ...], list[Rule]]:
    """The table's rules by what a part of the day must hold together (`Rule.over`; () first:
    the rules that judge each row on its own)."""
    out: dict[tuple[str, ...], list[Rule]] = {(): []}
    for r in CATALOGUE[table]:
        out.setdefault(r.over, []).append(r)
    return {over: rules for over, rules in out.items() if rules}


def reads(table: str) -> dict[str, list[str]]:
    """The other tables of the day that `table`'s rules read, with the columns they read."""
    out: dict[str, list[str]] = {}
    for r in CATALOGUE.get(table, ()):
        for other, columns in r.reads.items():
            out[other] = list(dict.fromkeys([*out.get(other, []), *columns]))
    return out


def schema(
    table: str, day: date, inputs: Inputs | None = None, rules: Sequence[Rule] | None = None
) -> pa.DataFrameSchema:
    """The table's Pandera schema for one day (only `rules`, if given): its columns must be
    there (a missing one is a schema drift), and one check per rule, named by the rule id."""
    rules = CATALOGUE[table] if rules is None else rules
    return pa.DataFrameSchema(
        {c: pa.Column(nullable=True) for c in checked_columns(table, rules)},
        checks=[
            pa.Check(
                lambda data, r=r: data.lazyframe.select(
                    r.passes(data.lazyframe, day, inputs or {}).fill_null(True).alias(r.id)
                ),
                name=r.id,
            )
            for r in rules
        ],
        name=table,
    )


def json_safe(rows: list[dict]) -> list[dict]:
    """Rows with dates, instants and decimals as text (for check metadata and dq.results), and
    any card number in them masked, whatever the rule: samples never show a raw one."""
    return cards.mask_deep(json.loads(json.dumps(rows, default=str)))


# ---- day-level rules: a figure of the whole day, not a row ----------------------------------


@dataclass(frozen=True)
class DayRule:
    id: str
    severity: str
    description: str

    def result(self, table: str, day: date, checked: int, failed: int, sample: list) -> Result:
        return Result(table, self.id, self.severity, self.description, day, checked, failed, sample)


ROWS_ACCOUNTED_FOR = DayRule(
    "rows_accounted_for",
    FATAL,
    "landed rows = staged + quarantined + dropped exact duplicates (exact re-deliveries of an "
    "earlier day's rows included), and landed rows = the manifest's count",
)
LOADED_EXACTLY = DayRule(
    "loaded_exactly", FATAL, "the day's rows in PostgreSQL = the day's rows in the lake"
)
KEYS_LOADED = DayRule(
    "keys_loaded",
    FATAL,
    "every key of the day's rows is in PostgreSQL (an upserted table: a newer day may have "
    "updated the row, never removed it)",
)
AMOUNTS_RECONCILE = DayRule(
    "amounts_reconcile",
    FATAL,
    "rows and total amount per currency = the layer before (staged: the raw amounts of the same "
    "rows, by file and line; the fact: the staged postings)",
)
TRAILING_WEEKS = 4
VOLUME = DayRule(
    "volume_vs_trailing_median",
    WARN,
    f"the day's rows between half and twice the median of the same weekday over the previous "
    f"{TRAILING_WEEKS} weeks (without history there is nothing to compare)",
)
FRAUD_RATE_MAX, FRAUD_RATE_MIN, FRAUD_RATE_MIN_POSTINGS = 0.02, 0.0001, 10_000
FRAUD_RATE = DayRule(
    "fraud_rate",
    WARN,
    f"alerts per posting at most {FRAUD_RATE_MAX:.0%} (more: a rule misfires), and at least "
    f"{FRAUD_RATE_MIN:.2%} on days of {FRAUD_RATE_MIN_POSTINGS:,}+ postings (fewer: a silent rule)",
)
CARDS_MASKED = DayRule(
    "card_numbers_masked",
    WARN,
    "no card number in the landed text: each one found (model/cards.py) was masked at landing to "
    "its first 6 and last 4 digits before anything was stored; the source system should not "
    "send them (checked and failed count landed rows and masked numbers)",
)
DAY_RULES: dict[str, tuple[DayRule, ...]] = {
    "staged/transactions": (AMOUNTS_RECONCILE,),
    "curated/fact_transactions": (AMOUNTS_RECONCILE, VOLUME),
    "curated/fact_fraudes": (FRAUD_RATE,),
}


Totals = dict  # currency -> (rows, total amount)


def totals(frame: pl.DataFrame, into: Totals | None = None) -> Totals:
    """Rows and total amount per currency of a frame with `currency` and `amount`, added to
    `into` (the totals of the day's other parts): exact, so a day can be summed in parts."""
    out = dict(into or {})
    by = frame.group_by("currency").agg(pl.len().alias("rows"), pl.col("amount").sum())
    for c, n, a in by.iter_rows():
        m, b = out.get(c, (0, 0))
        out[c] = (m + n, b + a)
    return out


def amounts_reconcile(
    table: str, day: date, source: pl.DataFrame | Totals, target: pl.DataFrame | Totals
) -> Result:
    """Exact reconciliation of two frames with `currency` and `amount` (or their `totals`): the
    same rows and the same total amount per currency. Checked and failed count currencies; the
    sample shows the currencies that disagree with both sides' figures."""
    a, b = (t if isinstance(t, dict) else totals(t) for t in (source, target))
    differ = [
        {"currency": c, "source": a.get(c), "here": b.get(c)}
        for c in sorted(a.keys() | b.keys(), key=str)
        if a.get(c) != b.get(c)
    ]
    return AMOUNTS_RECONCILE.result(
        table, day, len(a.keys() | b.keys()), len(differ), json_safe(differ)
    )


def volume_vs_trailing_median(table: str, day: date, rows: int, history: list[int]) -> Result:
    """`history`: the row counts of the same weekday in the previous weeks that have rows."""
    median = statistics.median(history) if history else None
    normal = median is None or 0.5 * median <= rows <= 2 * median
    sample = [{"rows": rows, "median": median, "weeks": len(history)}]
    return VOLUME.result(table, day, 1, 0 if normal else 1, sample)


def cards_masked(table: str, day: date, rows: int, by_file: dict[str, int]) -> Result:
    """The card numbers masked at landing in the day's files (`by_file`: landing file ->
    count): the sample names the files that held any."""
    sample = [{"source_file": f, "cards_masked": n} for f, n in sorted(by_file.items()) if n]
    return CARDS_MASKED.result(table, day, rows, sum(by_file.values()), sample)


def fraud_rate(table: str, day: date, alerts: int, postings: int) -> Result:
    rate = alerts / postings if postings else 0.0
    sane = rate <= FRAUD_RATE_MAX and (postings < FRAUD_RATE_MIN_POSTINGS or rate >= FRAUD_RATE_MIN)
    sample = [{"alerts": alerts, "postings": postings, "rate_pct": round(100 * rate, 4)}]
    return FRAUD_RATE.result(table, day, 1, 0 if sane else 1, sample)


class SchemaDrift(ValueError):
    """The day's rows lack a column the rules read."""


@dataclass(frozen=True)
class Tally:
    """One rule over a part of a day: rows checked and failed, and the failing rows to sample
    (the first few, with their `ROW` when the part has it; for a rule reported per group, every
    failing group with its rows). Parts add up (`+`) to the day."""

    checked: int
    failed: int
    failing: pl.DataFrame

    def __add__(self, other: Tally) -> Tally:
        failing = pl.concat([self.failing, other.failing], how="vertical_relaxed")
        return Tally(self.checked + other.checked, self.failed + other.failed, failing)


def validate(
    table: str,
    frame: pl.DataFrame,
    day: date,
    quarantined: dict[str, int] | None = None,
    inputs: Inputs | None = None,
) -> list[Result]:
    """Every rule of `table` over the day's rows: one Result per rule, in catalogue order.
    `quarantined` (rows per staging rule id) fills in the error rules' quarantine counts;
    `inputs`: the day's rows of the other tables the rules read (`reads`)."""
    return results(table, day, tally(table, frame, day, inputs), quarantined)


def tally(
    table: str,
    frame: pl.DataFrame,
    day: date,
    inputs: Inputs | None = None,
    rules: Sequence[Rule] | None = None,
) -> dict[str, Tally]:
    """`rules` (all of the table's by default) over a part of the day, by rule id. A rule with
    `over` must see every row of each of its values in the part."""
    rules = CATALOGUE[table] if rules is None else rules
    failed: dict[str, pl.Series] = {}
    try:
        schema(table, day, inputs, rules).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        cases = e.failure_cases
        missing = cases.filter(pl.col("check") == "column_in_dataframe")
        if missing.height:
            raise SchemaDrift(
                f"{table} {day}: column(s) {', '.join(missing['failure_case'].to_list())} "
                "missing from the day's rows"
            ) from e
        for (check,), rows in cases.group_by("check"):
            failed[check] = rows["index"].drop_nulls().unique().sort()
    out = {}
    for r in rules:
        index = failed.get(r.id, pl.Series([], dtype=pl.Int32))
        out[r.id] = Tally(frame.height, len(index), _failing(frame, index, r))
    return out


def results(
    table: str, day: date, tallies: Mapping[str, Tally], quarantined: dict[str, int] | None = None
) -> list[Result]:
    """One Result per rule of `table` from its tally over the whole day, in catalogue order;
    `quarantined` (rows per staging rule id) fills in the error rules' quarantine counts."""
    out = []
    for r in CATALOGUE[table]:
        t = tallies[r.id]
        out.append(
            Result(
                table,
                r.id,
                r.severity,
                r.description,
                day,
                t.checked,
                t.failed,
                json_safe(_sample(t.failing, r).to_dicts()),
                r.tolerance,
                (quarantined or {}).get(r.quarantined_as, 0) if r.quarantined_as else None,
                r.group_by,
            )
        )
    return out


def sql_result(table: str, r: Rule, day: date, checked: int, failed: int, sample: list) -> Result:
    """A warehouse rule's (`Rule.sql`) figures and failing rows, as the check reports them."""
    rows = json_safe(sample)
    return Result(table, r.id, r.severity, r.description, day, checked, failed, rows, r.tolerance)


def _failing(frame: pl.DataFrame, index: pl.Series, r: Rule) -> pl.DataFrame:
    """A part's failing rows to sample: its first few (with ROW), or per group its rows."""
    if r.group_by is None:
        kept = [*r.columns, ROW] if ROW in frame.columns else list(r.columns)
        return frame[index.head(SAMPLE_ROWS).to_list()].select(kept)
    return frame[index.to_list()].group_by(r.group_by).agg(pl.len().cast(pl.Int64).alias("rows"))


def _sample(failing: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """The day's first few failing rows, or for a rule reported per group every group with its
    failing rows (most first)."""
    if r.group_by is None:
        ordered = failing.sort(ROW) if ROW in failing.columns else failing
        return ordered.head(SAMPLE_ROWS).select(r.columns)
    groups = failing.group_by(r.group_by).agg(pl.col("rows").sum())
    return groups.sort(["rows", r.group_by], descending=[True, False]).head(SAMPLE_GROUPS)
