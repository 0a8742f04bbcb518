"""Card numbers (model/cards.py): found whatever separates their digits, masked to first 6 / last 4,
and nothing else of the simulated bank's data is taken for one."""

from __future__ import annotations

import json
import re

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from bank_assets.io.lake import day_path
from bank_assets.io.spark.lake_source import read_landing_csv, read_landing_jsonl
from bank_assets.model import cards
from bank_assets.model.iban import make_iban
from bank_assets.model.sources import SOURCES
from bank_assets.simulator import simulate
from bank_assets_tests.conftest import DAY

PAN = "4539148803436467"  # Luhn-valid Visa test number

# text, the text once masked
PLANTED = [
    ("card 4539  1488  0343  6467", "card 4539  14**  ****  6467"),  # double spaces
    ("4539.1488.0343.6467", "4539.14**.****.6467"),
    ("pan 4539\u00a01488\u00a00343\u00a06467 ok", "pan 4539\u00a014**\u00a0****\u00a06467 ok"),
    ("4539/1488/0343/6467", "4539/14**/****/6467"),
    ("card:4539148803436467x", "card:453914******6467x"),  # glued to letters
    ("card4539148803436467", "card453914******6467"),
    ("4539-1488-0343-6467", "4539-14**-****-6467"),
    ("4539\t1488\t0343\t6467", "4539\t14**\t****\t6467"),
    ("4539 - 1488 -- 0343 .. 6467", "4539 - 14** -- **** .. 6467"),  # runs of separators
    ("ref 12, 4539 1488 0343 6467", "ref 12, 4539 14** **** 6467"),  # whole groups of a run
    ("paid 5500 0000 0000 0004 exp 12/28", "paid 5500 00** **** 0004 exp 12/28"),
    ("378282246310005", "378282*****0005"),  # Amex, 15 digits
    ("12.50 EUR, 4539148803436467", "12.50 EUR, 453914******6467"),  # next to a decimal
    ("6011 1111 1111 1117", "6011 11** **** 1117"),
    ("2221 0000 0000 0009", "2221 00** **** 0009"),  # Mastercard 2-series
    # JSON payloads: the raw character, or its \u escape as landed in a malformed line
    (
        json.dumps({"comment": "card 4539\u00a01488\u00a00343\u00a06467"}, ensure_ascii=False),
        json.dumps({"comment": "card 4539\u00a014**\u00a0****\u00a06467"}, ensure_ascii=False),
    ),
    (
        json.dumps({"comment": "card 4539\u00a01488\u00a00343\u00a06467"}),
        json.dumps({"comment": "card 4539\u00a014**\u00a0****\u00a06467"}),
    ),
    ('{"comment": 4539148803436467}', '{"comment": 453914******6467}'),
]


def luhn_digits(prefix: str, length: int) -> str:
    """A Luhn-valid number of `length` digits starting with `prefix`."""
    body = prefix.ljust(length - 1, "7")
    return next(body + d for d in "0123456789" if cards.luhn_valid(body + d))


@pytest.mark.parametrize(("text", "expected"), PLANTED)
def test_card_numbers_are_found_whatever_separates_the_digits(text, expected):
    assert len(cards.find(text)) == 1
    assert cards.mask(text) == (expected, 1)
    assert cards.find(expected) == []  # the masked text holds no card number any more
    # Every engine that screens values finds it a candidate (pyarrow/RE2, polars, Python).
    assert pc.match_substring_regex(pa.array([text]), cards.PREFILTER)[0].as_py()
    assert pl.Series([text]).str.contains(cards.PREFILTER)[0]


def test_masking_keeps_the_first_six_and_last_four_digits_of_each_number():
    text = f"a {PAN} b 4111-1111-1111-1111 c"
    masked, count = cards.mask(text)
    assert (masked, count) == ("a 453914******6467 b 4111-11**-****-1111 c", 2)
    assert cards.mask(None) == (None, 0) and cards.mask("") == ("", 0)
    # 19 digits: 9 hidden
    nineteen = luhn_digits("4", 19)
    assert cards.masked(nineteen) == nineteen[:6] + "*" * 9 + nineteen[-4:]
    assert cards.mask_deep({"s": [f"x {PAN}", 3, None]}) == {"s": ["x 453914******6467", 3, None]}


@pytest.mark.parametrize(
    "text",
    [
        "4539148803436468",  # Luhn-invalid
        "ref 1234567890123",  # Luhn-invalid
        "1234 5678 9012 3452",  # Luhn-valid, but no card starts with 1
        "TX2026112000000001",  # transaction ids: the year first
        "S20261120000123",  # survey ids
        luhn_digits("4", 20),  # 20 digits: longer than any card
        f"{luhn_digits('4', 16)}1234",  # a compact 20-digit run is not split
        "FR7630006000011234567890189",
        "FR76 3000 6000 0112 3456 7890 189",  # an IBAN grouped by fours
        "2026-11-20T09:15:30+01:00",
        "453914******6467",  # already masked
        f"f{luhn_digits('5422', 15)}",  # a record_hash: 16 hex digits
        f"9f1c{luhn_digits('5422', 15)}ab{'0' * 40}",  # a longer hex digest
        "b2f2aae8-{}-{}-{}-{}aaaaaaaa".format(*re.findall("....", luhn_digits("4539", 16))),
        "413.45678912346",  # a float (a duration in the Dagster event log), not a split card
        '{"duration_ms": 413.45678912346, "x": [0.5, 413.45678912346]}',
        "497010******1234",
    ],
)
def test_what_is_not_a_card_number(text):
    assert cards.find(text) == [] and cards.mask(text) == (text, 0)


def test_ibans_whose_digits_look_like_a_card_are_not_one():
    # BE and GB IBANs hold 14 digits next to letters: some are a Luhn-valid run with a card prefix
    for country, bank, first, tail in (
        ("BE", "", 539007547034, 2),
        ("GB", "NWBK", 60161331926819, 8),
    ):
        iban = next(
            i
            for i in (make_iban(country, f"{bank}{n}") for n in range(first, first + 1000))
            if cards.is_card_number(i[tail:])
        )
        assert cards.find(iban[tail:]), iban  # the digits alone are taken for a card
        assert cards.find(iban) == [] and cards.find(f"to {iban[:4]} {iban[4:8]} {iban[8:]}.") == []


def test_a_simulated_day_holds_no_card_number(local_lake):
    """The simulator's ids, IBANs, times, amounts and texts: no false positive anywhere, and the
    vectorized prefilter keeps only a few candidates."""
    simulate(local_lake, DAY, 1, 20_000, seed=3)
    values = 0
    for name, source in SOURCES.items():
        for info in local_lake.files(day_path("landing", name, DAY), f".{source.file_format}"):
            data = local_lake.read_bytes(local_lake.relative(info.path))
            parse = read_landing_csv if source.file_format == "csv" else read_landing_jsonl
            table = parse(data, list(source.columns), info.path)
            for column in [*source.columns, "_raw_line"]:
                texts = table.column(column).to_pylist()
                values += len(texts)
                found = [t for t in texts if cards.find(t)]
                assert found == [], (name, column, found[:3])
                assert len(cards.candidates(table.column(column))) <= 0.1 * len(texts) + 5
            assert cards.mask_table(table)[1] == 0
    assert values > 20_000 * len(SOURCES["transactions"].columns)


def test_mask_table_masks_every_string_column_and_counts():
    table = pa.table(
        {
            "a": ["x", f"card {PAN}", None, "4539 1488 0343 6467 / 5500-0000-0000-0004"],
            "_raw_line": [None, None, f'"1","{PAN}"', None],
            "n": [1, 2, 3, 4],
        }
    )
    masked, count = cards.mask_table(table)
    assert count == 4
    assert masked.column("a").to_pylist() == [
        "x",
        "card 453914******6467",
        None,
        "4539 14** **** 6467 / 5500-00**-****-0004",
    ]
    assert masked.column("_raw_line").to_pylist()[2] == '"1","453914******6467"'
    assert masked.column("n").to_pylist() == [1, 2, 3, 4]
    clean = pa.table({"a": ["x", "y"]})
    assert cards.mask_table(clean) == (clean, 0)
