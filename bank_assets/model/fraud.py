"""Fraud detection in Spark: rules over each account's postings of the day, combined into a score.

Signals (each a rule id, with the weight it adds to the score):

  card_testing    night-time (00:00-05:00 UTC) small card-not-present payments, 3 or more within
                  30 minutes of each other, and the large card-not-present payment that follows
  velocity        6 or more card payments at a terminal on the account within 3 minutes either
                  side
  new_country     the account's only payment abroad that day, and a large one (>= 300 EUR)
  unusual_amount  at least 10 times the account's average debit of the day, and >= 500 EUR

The score is a noisy-or of the signals that fire (1 - product of (1 - weight)); a posting is
flagged at FLAG_AT or above and its alert names the strongest rule. One window pass per account
(one shuffle) over a narrow projection of the postings (COLUMNS); the few postings that score
above 0 are broadcast back onto the wide rows, which are never shuffled.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from bank_assets.model import reference as ref
from bank_assets.model.keys import SCORE

WEIGHTS = {"card_testing": 0.9, "new_country": 0.8, "velocity": 0.7, "unusual_amount": 0.5}
FLAG_AT = 0.6
HOME_COUNTRY = "FR"
SMALL_EUR, LARGE_CNP_EUR, LARGE_ABROAD_EUR, UNUSUAL_EUR = 5, 200, 300, 500
CARD_NOT_PRESENT = tuple(c for c, (_, cnp) in ref.CHANNEL_NAMES.items() if cnp)
# What the signals read of a posting (besides amount_eur, derived from amount and currency).
COLUMNS = (
    "transaction_id",
    "account_id",
    "posted_at",
    "channel",
    "direction",
    "amount",
    "currency",
    "country",
)


def signals(tx: DataFrame) -> dict[str, Column]:
    """Rule id -> boolean column, over postings with account_id, posted_at, channel, direction,
    amount_eur and country."""
    seconds = F.col("posted_at").cast("long")
    account = Window.partitionBy("account_id")
    timed = account.orderBy(seconds)
    cnp = F.col("channel").isin(*CARD_NOT_PRESENT)
    card_present = F.col("channel") == "POS"
    small_test = cnp & (F.col("amount_eur") < SMALL_EUR) & (F.hour("posted_at") < 5)
    tests_around = F.sum(small_test.cast("int")).over(timed.rangeBetween(-1800, 1800))
    tests_before = F.sum(small_test.cast("int")).over(timed.rangeBetween(-1800, -1))
    abroad = F.col("country") != HOME_COUNTRY
    debit = F.col("direction") == "DEBIT"
    average_debit = F.avg(F.when(debit, F.col("amount_eur"))).over(account)
    return {
        "card_testing": (small_test & (tests_around >= 3))
        | (cnp & (F.col("amount_eur") >= LARGE_CNP_EUR) & (tests_before >= 3)),
        "velocity": card_present
        & (F.sum(card_present.cast("int")).over(timed.rangeBetween(-180, 180)) >= 6),
        "new_country": abroad
        & (F.sum(abroad.cast("int")).over(account) == 1)
        & (F.col("amount_eur") >= LARGE_ABROAD_EUR),
        "unusual_amount": debit
        & (F.col("amount_eur") >= UNUSUAL_EUR)
        & (F.col("amount_eur") >= 10 * average_debit),
    }


def scores(movements: DataFrame) -> DataFrame:
    """transaction_id, fraud_score (0-1, 4 decimals), fraud_rule (the strongest rule that fired)
    and is_fraud_flagged of the postings that score above 0; `movements` has the COLUMNS of
    `signals`, one row per posting."""
    fired = signals(movements)
    flags = movements.select("transaction_id", *[c.alias(f"_sig_{r}") for r, c in fired.items()])
    keep = F.lit(1.0)
    for rule, weight in WEIGHTS.items():
        keep = keep * F.when(F.col(f"_sig_{rule}"), F.lit(1 - weight)).otherwise(F.lit(1.0))
    strongest = None
    for rule in WEIGHTS:  # by weight, strongest first
        hit = F.col(f"_sig_{rule}")
        strongest = F.when(hit, rule) if strongest is None else strongest.when(hit, rule)
    score = F.round(F.lit(1.0) - keep, 4).cast(SCORE)
    return flags.select(
        "transaction_id",
        score.alias("fraud_score"),
        strongest.alias("fraud_rule"),
        (score >= FLAG_AT).alias("is_fraud_flagged"),
    ).where(F.col("fraud_score") > 0)


def scored(postings: DataFrame, scores: DataFrame) -> DataFrame:
    """`postings` with the fraud columns of `scores` (0, no rule, not flagged where absent).

    The scores are few (postings above 0), so they are broadcast: the postings keep their
    partitioning and are not shuffled."""
    joined = postings.join(F.broadcast(scores), "transaction_id", "left")
    return joined.select(
        *postings.columns,
        F.coalesce("fraud_score", F.lit(0).cast(SCORE)).alias("fraud_score"),
        "fraud_rule",
        F.coalesce("is_fraud_flagged", F.lit(False)).alias("is_fraud_flagged"),
    )
