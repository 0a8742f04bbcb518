"""A large landing file is parsed in byte-range splits (io/spark/lake_source.py `read_split`):
for every split size, down to a few bytes, with malformed lines, quoted line breaks, blank
lines and CRLF at and across the borders, the splits together give exactly the rows of the
whole file, with the same line numbers and errors."""

from __future__ import annotations

import pyarrow as pa
import pytest

from bank_assets.io.spark.lake_source import (
    IrregularQuoting,
    plan_splits,
    read_landing_csv,
    read_landing_jsonl,
    read_split,
    scan_range,
    split_starts,
)

COLUMNS = ["id", "amount", "note"]

CSV = (
    b"id,amount,note\n"
    b"1,2.50,a\n"
    b"2,oops\n"  # malformed: too few fields
    b'3,4,"two\nlines"\n'  # a quoted line break
    b"\n"  # blank
    b'4,5,"say ""hi"", then\r\nmore"\r\n'  # escaped quotes, CRLF inside and after
    b"5,6,x,extra\n"  # malformed: too many fields
    b'6,7,"a,b"\n'
    b"7,8,z"  # no final line break
)
JSONL = (
    b'{"id": "1", "amount": 2.5}\n'
    b"not json\n"
    b"\n"
    b'{"id": "3", "note": "x:y"}\r\n'
    b'{"id": "4", "oops": 1}\n'
    b'{"id": "5", "note": {"a": 1}}\n'
    b'{"id": "6"}'
)


def splits_of(data: bytes, split_bytes: int, file_format: str) -> pa.Table:
    """The file parsed as the landing tasks do with `split_bytes` splits."""

    def read_at(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    starts = split_starts(len(data), split_bytes)
    scans = [scan_range(read_at, s, e, len(data)) for s, e in zip(starts, [*starts[1:], len(data)])]
    splits = plan_splits(len(data), starts, scans, file_format == "csv")
    return pa.concat_tables(
        read_split(read_at, len(data), split, file_format, COLUMNS, "f") for split in splits
    )


@pytest.mark.parametrize("split_bytes", range(1, len(CSV) + 2))
def test_csv_splits_give_the_rows_and_lines_of_the_whole_file(split_bytes):
    whole = read_landing_csv(CSV, COLUMNS, "f")
    assert whole["_line"].to_pylist() == [2, 3, 4, 7, 9, 10, 11]
    assert splits_of(CSV, split_bytes, "csv").to_pylist() == whole.to_pylist()


@pytest.mark.parametrize("split_bytes", range(1, len(JSONL) + 2))
def test_jsonl_splits_give_the_rows_and_lines_of_the_whole_file(split_bytes):
    whole = read_landing_jsonl(JSONL, COLUMNS, "f")
    assert whole["_line"].to_pylist() == [1, 2, 4, 5, 6, 7]
    assert splits_of(JSONL, split_bytes, "jsonl").to_pylist() == whole.to_pylist()


IRREGULAR = b'id,amount,note\n1,2,ab"c\n2,3,"d\ne"\n3,4,f\n'  # a stray quote, unquoted field


@pytest.mark.parametrize("split_bytes", range(1, len(IRREGULAR) + 2))
def test_splits_of_irregular_quoting_give_the_whole_files_rows_or_are_refused(split_bytes):
    """Refused (IrregularQuoting): the file is then landed whole, as it is when not split."""
    whole = read_landing_csv(IRREGULAR, COLUMNS, "f")
    assert whole["_line"].to_pylist() == [2, 3, 5]
    try:
        split = splits_of(IRREGULAR, split_bytes, "csv")
    except IrregularQuoting:
        return
    assert split.to_pylist() == whole.to_pylist()


def test_a_stray_quote_refuses_the_splits():
    with pytest.raises(IrregularQuoting):
        splits_of(IRREGULAR, 8, "csv")


def test_a_lone_carriage_return_keeps_a_csv_file_whole():
    data = b"id,amount,note\n1,2,a\r2,3,b\n3,4,c\n"

    def read_at(offset, length):
        return data[offset : offset + length]

    starts = split_starts(len(data), 10)
    scans = [scan_range(read_at, s, e, len(data)) for s, e in zip(starts, [*starts[1:], len(data)])]
    assert len(starts) > 1 and len(plan_splits(len(data), starts, scans, True)) == 1


def test_small_files_are_one_split():
    assert split_starts(100, 100) == [0]
    assert split_starts(101, 100) == [0, 100]
