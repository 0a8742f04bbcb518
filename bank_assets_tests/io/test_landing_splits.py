"""Parallel landing through Spark: a landing file larger than the split size is parsed by
several tasks (byte ranges) and lands exactly as it does whole: every line once, the same
line numbers and errors, card numbers masked before anything is stored (S3 lake, real Spark).
The borders themselves are covered at every byte in unit/test_split_plan.py."""

from __future__ import annotations

import pytest

from bank_assets.io.lake import day_path
from bank_assets.io.spark.lake_source import LandingFormatError
from bank_assets.io.spark.tables import land_raw, read_day
from bank_assets.model.sources import SourceTable
from bank_assets_tests.conftest import DAY

CARD = "4111111111111111"
LINES = [
    b"k,v,note",
    b"1,a,x",
    b"2,b,extra,field",  # malformed: a split starts exactly here (see test)
    b'3,c,"two',
    b'lines"',
    b"",
    b"4,d," + CARD.encode(),  # a card number, masked as landed
    b"5,broken",  # malformed
    b"6,f,y",
]
CSV = b"\n".join(LINES) + b"\n"
JSONL = (
    b'{"k": "1", "v": "a"}\n'
    b"{broken\n"
    b"\n"
    b'{"k": "2", "note": "' + CARD.encode() + b'"}\n'
    b'{"k": "3", "x": 1}\n'
    b'{"k": "4"}\n'
)


def landed(spark, lake, name, data, file_format, split_bytes):
    source = SourceTable(name, file_format, ("k", "v", "note"), key="k", grain="one row")
    lake.write_bytes(f"{day_path('landing', name, DAY)}/part-00000.{file_format}", data)
    written, _ = land_raw(
        spark, lake, name, DAY, file_format, source.raw_schema(), split_bytes=split_bytes
    )
    # all but _landed_at: each landing below writes the file anew (a new modification time)
    rows = read_day(lake, "raw", name, DAY).drop_columns(["_landed_at"]).sort_by("_line")
    return written, rows.to_pylist()


def test_a_split_file_lands_as_it_does_whole(spark, lake):
    border = CSV.index(b"2,b,extra")  # the first split ends where a malformed line starts
    whole, whole_rows = landed(spark, lake, "c", CSV, "csv", 1 << 20)
    split, split_rows = landed(spark, lake, "c", CSV, "csv", border)
    assert (whole.files, split.files) == (1, -(-len(CSV) // border))
    assert split_rows == whole_rows and split.rows == whole.rows == 6
    assert [r["_line"] for r in split_rows] == [2, 3, 4, 7, 8, 9]
    assert [(r["_line"], r["_error"]) for r in split_rows if r["_error"]] == [
        (3, "expected 3 fields, found 4"),
        (8, "expected 3 fields, found 2"),
    ]
    assert (
        split.cards_masked
        == whole.cards_masked
        == {f"{day_path('landing', 'c', DAY)}/part-00000.csv": 1}
    )
    assert CARD not in str(split_rows)

    whole, whole_rows = landed(spark, lake, "j", JSONL, "jsonl", 1 << 20)
    split, split_rows = landed(spark, lake, "j", JSONL, "jsonl", 7)
    assert split.files > 3 and split_rows == whole_rows
    assert [(r["_line"], bool(r["_error"])) for r in split_rows] == [
        (1, False),
        (2, True),
        (4, False),
        (5, True),
        (6, False),
    ]
    assert sum(split.cards_masked.values()) == 1 and CARD not in str(split_rows)


def test_a_file_of_irregular_quoting_lands_whole_and_a_bad_header_is_named_once(spark, lake):
    stray = b'k,v,note\n1,a,ab"c\n2,b,"d\ne"\n3,c,f\n'
    _, whole_rows = landed(spark, lake, "s", stray, "csv", 1 << 20)
    split, split_rows = landed(spark, lake, "s", stray, "csv", 8)
    assert split.files == 1 and split_rows == whole_rows
    assert [r["_line"] for r in split_rows] == [2, 3, 5]

    with pytest.raises(LandingFormatError) as failed:
        landed(spark, lake, "h", b"k,wrong\n" + b"1,a,x\n" * 10, "csv", 16)
    assert str(failed.value).count("line 1: header") == 1
