"""Landing file parsing: every line becomes one row; bad lines keep their text and reason."""

from __future__ import annotations

import pytest

from bank_assets.io import landing
from bank_assets.io.lake import LandingFileError, ManifestError, manifest_path
from bank_assets.io.spark.lake_source import (
    LandingFormatError,
    read_landing_csv,
    read_landing_jsonl,
)
from bank_assets.model.iban import is_valid_iban, make_iban
from bank_assets_tests.conftest import DAY

COLUMNS = ["id", "amount", "note"]


def test_csv_keeps_malformed_lines_with_line_numbers():
    data = b'id,amount,note\n1,2.50,a\n2,3.00\n3,4.00,"x, y"\n4,5,6,7\n'
    table = read_landing_csv(data, COLUMNS, "landing/t/part-0.csv").to_pylist()
    assert [r["_line"] for r in table] == [2, 3, 4, 5]
    assert table[0] | {} == {
        "id": "1",
        "amount": "2.50",
        "note": "a",
        "_line": 2,
        "_raw_line": None,
        "_error": None,
        "_source_file": "landing/t/part-0.csv",
    }
    assert table[1]["_raw_line"] == "2,3.00" and table[1]["id"] is None
    assert table[1]["_error"] == "expected 3 fields, found 2"
    assert table[2]["note"] == "x, y"
    assert table[3]["_error"] == "expected 3 fields, found 4"


def test_csv_wrong_header_names_the_file_and_the_difference():
    with pytest.raises(LandingFormatError, match=r"part-9.csv: line 1: .*missing: \['note'\]"):
        read_landing_csv(b"id,amount\n1,2\n", COLUMNS, "landing/t/part-9.csv")
    with pytest.raises(LandingFormatError, match=r"line 1: .*unexpected: \['channel'\]"):
        read_landing_csv(b"id,amount,note,channel\n1,2,a,POS\n", COLUMNS, "landing/t/part-9.csv")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"part-3.csv: line 1: the file is empty"),
        (
            b"id,amount,note\n1,2.50,a\n2,3.00,caf\xe9\n",
            r"part-3.csv: line 3 is not UTF-8 \(byte 0xe9\)",
        ),
    ],
)
def test_csv_unreadable_files_fail_naming_file_and_line(data, message):
    with pytest.raises(LandingFormatError, match=message):
        read_landing_csv(data, COLUMNS, "landing/t/part-3.csv")


def test_csv_truncated_file_keeps_the_cut_line_with_its_reason():
    table = read_landing_csv(b"id,amount,note\n1,2.50,a\n2,3.0", COLUMNS, "f.csv").to_pylist()
    assert [(r["_line"], r["_raw_line"], r["_error"]) for r in table] == [
        (2, None, None),
        (3, "2,3.0", "expected 3 fields, found 2"),
    ]


def test_csv_header_only_is_a_day_without_rows():
    assert read_landing_csv(b"id,amount,note\n", COLUMNS, "f.csv").num_rows == 0


def test_csv_empty_strings_stay_text():
    table = read_landing_csv(b'id,amount,note\n1,,""\n', COLUMNS, "f.csv").to_pylist()
    assert table[0]["amount"] == "" and table[0]["note"] == ""


def test_jsonl_lines_not_in_utf8_or_cut_are_kept_with_the_reason():
    data = b'{"id": "1", "amount": "2", "note": "caf\xe9"}\n{"id": "2", "amo'
    table = read_landing_jsonl(data, COLUMNS, "f.jsonl").to_pylist()
    assert [r["_line"] for r in table] == [1, 2]
    assert "can't decode byte 0xe9" in table[0]["_error"]
    assert table[1]["_error"].startswith("invalid JSON") and table[1]["_raw_line"]


def test_jsonl_scalars_become_text_and_bad_lines_are_kept():
    data = b'{"id": "1", "amount": 2.5, "note": null}\n\n{"id": "2", "oops": 1}\nnot json\n'
    table = read_landing_jsonl(data, COLUMNS, "f.jsonl").to_pylist()
    assert [r["_line"] for r in table] == [1, 3, 4]
    assert table[0]["amount"] == "2.5" and table[0]["note"] is None
    assert table[1]["_error"] == "unexpected fields ['oops']"
    assert table[2]["_error"].startswith("invalid JSON") and table[2]["_raw_line"] == "not json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"day": "2026-11-20",\n "tables": {"clients": ', r"line 2 column 24: not valid JSON"),
        (b'{"day": "caf\xe9"}', r"not UTF-8"),
        (b'["not", "a", "manifest"]', r'line 1: not a landing manifest \(a JSON object with a "t'),
    ],
)
def test_a_manifest_that_is_not_json_names_the_file_and_the_line(local_lake, content, message):
    local_lake.write_bytes(manifest_path(DAY), content)
    with pytest.raises(ManifestError, match=rf"^landing/manifests/2026-11-20.json: {message}"):
        local_lake.read_manifest(DAY)
    with pytest.raises(ManifestError, match="re-deliver the manifest"):
        local_lake.manifest_table(DAY, "clients")


def test_a_manifest_without_a_valid_entry_for_the_table_says_so(local_lake):
    local_lake.write_bytes(manifest_path(DAY), b'{"tables": {"clients": {"rows": 3}}}')
    with pytest.raises(ManifestError, match=r"2026-11-20.json: table 'clients' has no valid entry"):
        local_lake.manifest_table(DAY, "clients")
    with pytest.raises(ManifestError, match=r"table 'accounts' has no valid entry .* found null"):
        local_lake.manifest_table(DAY, "accounts")


M = "landing/manifests/2026-11-20.json"
ENTRY = {"rows": 5, "files": [{"path": "d/part-0.csv", "rows": 5}, {"path": "d/part-1.csv"}]}


def test_landed_files_must_be_exactly_the_listed_ones():
    landing.check_listing({"d/part-0.csv": 90, "d/part-1.csv": 40}, ENTRY, M, "t", False)
    with pytest.raises(LandingFileError) as missing:
        landing.check_listing({"d/part-0.csv": 90}, ENTRY, M, "t", False)
    assert str(missing.value) == (
        f"d/part-1.csv: listed in {M} but not landed: re-deliver the file (or a manifest "
        "without it)"
    )
    present = {"d/part-0.csv": 90, "d/part-1.csv": 40, "d/part-2.csv": 10}
    with pytest.raises(
        LandingFileError,
        match=r"^d/part-2.csv: landed but not listed in .*"
        r"add it to the manifest \(re-deliver the manifest\) or remove the file",
    ):
        landing.check_listing(present, ENTRY, M, "t", False)


def test_empty_files_are_refused_for_snapshots_and_where_the_manifest_lists_rows():
    zero = {"d/part-0.csv": 0, "d/part-1.csv": 40}
    with pytest.raises(
        LandingFileError,
        match=r"^d/part-0.csv: line 1: .*empty \(0 bytes\), "
        rf"but {M} lists 5 rows for it",
    ):
        landing.check_listing(zero, ENTRY, M, "t", False)
    quiet = {"rows": 0, "files": [{"path": "d/part-0.csv", "rows": 0}]}
    landing.check_listing({"d/part-0.csv": 0}, quiet, M, "t", False)  # a quiet day: fine
    landing.check_records({"d/part-0.csv": 0}, quiet, M, "t", False, 2)
    with pytest.raises(
        LandingFileError,
        match=r"^d/part-0.csv: line 2: the file has no records, "
        r"but clients is a full daily snapshot and is never empty",
    ):
        landing.check_records({"d/part-0.csv": 0}, quiet, M, "clients", True, 2)
    single = {"rows": 7, "files": [{"path": "d/part-0.jsonl"}]}  # rows of the table
    with pytest.raises(LandingFileError, match=r"line 1: .* lists 7 rows for it"):
        landing.check_records({"d/part-0.jsonl": 0}, single, M, "t", False, 1)


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("FR7630006000011234567890189", True),  # published example IBAN
        ("DE89370400440532013000", True),  # published example IBAN
        ("FR7630006000011234567890188", False),
        ("DE8937040044053201300", False),  # wrong length
        ("fr7630006000011234567890189", False),
        ("", False),
    ],
)
def test_iban_validation(iban, valid):
    assert is_valid_iban(iban) is valid


def test_make_iban_round_trip():
    assert make_iban("DE", "370400440532013000") == "DE89370400440532013000"


def test_csv_lines_are_physical_after_quoted_line_breaks_and_blank_lines():
    data = (
        b"id,amount,note\n"  # 1
        b'1,2.50,"two\nlines"\n'  # 2-3
        b"\n"  # 4: blank, skipped
        b"2,3.00,b\n"  # 5
        b'3,4.00,"x\r\ny\r\nz"\n'  # 6-8
        b"\n\n"  # 9-10
        b"4,5.00\n"  # 11: malformed
        b"5,6.00,c\n"  # 12
    )
    table = read_landing_csv(data, COLUMNS, "f.csv").to_pylist()
    assert [(r["id"], r["_line"]) for r in table] == [
        ("1", 2),
        ("2", 5),
        ("3", 6),
        (None, 11),
        ("5", 12),
    ]
    assert table[0]["note"] == "two\nlines" and table[3]["_raw_line"] == "4,5.00"


def test_csv_lines_with_crlf_and_a_quote_inside_an_unquoted_field():
    data = b'id,amount,note\r\n\r\n1,2,5" screen\r\n2,3\r\n\r\n3,4,"a\r\nb"\r\n'
    table = read_landing_csv(data, COLUMNS, "f.csv").to_pylist()
    assert [(r["id"], r["_line"], r["_error"]) for r in table] == [
        ("1", 3, None),
        (None, 4, "expected 3 fields, found 2"),
        ("3", 6, None),
    ]
    assert table[0]["note"] == '5" screen'


@pytest.mark.parametrize("read", [read_landing_csv, read_landing_jsonl], ids=["csv", "jsonl"])
def test_cr_only_line_endings_are_refused_naming_the_file(read):
    data = b"id,amount,note\r1,2,a\r" if read is read_landing_csv else b'{"id": "1"}\r{"id": "2"}\r'
    with pytest.raises(LandingFormatError, match=r"^landing/t/part-1\.\w+: line 1 .*CR-only"):
        read(data, COLUMNS, f"landing/t/part-1.{'csv' if read is read_landing_csv else 'jsonl'}")


def test_jsonl_lines_are_physical_with_blank_lines_and_crlf():
    data = b'\r\n{"id": "1"}\r\n\r\n\n   \n{"id": "2"}\r\n{"id": \r\n{"id": "3"}'
    table = read_landing_jsonl(data, COLUMNS, "f.jsonl").to_pylist()
    assert [(r["id"], r["_line"]) for r in table] == [("1", 2), ("2", 6), (None, 7), ("3", 8)]
    assert table[2]["_raw_line"] == '{"id": '  # without the CR of its line break


def test_jsonl_nested_values_and_duplicated_fields_are_quarantined_with_the_reason():
    data = (
        b'{"id": "1", "amount": {"value": 2}}\n'
        b'{"id": "2", "note": ["a", "b"]}\n'
        b'{"id": "3", "amount": "1", "id": "4"}\n'
        b'{"id" : "5" , "amount":"2", "id":"6"}\n'  # spaced colons: still caught
        b'{"id": "7", "note": "at 10:30"}\n'
    )
    table = read_landing_jsonl(data, COLUMNS, "f.jsonl").to_pylist()
    assert [(r["_line"], r["_error"]) for r in table] == [
        (1, "field amount holds a JSON object, a scalar was expected"),
        (2, "field note holds a JSON array, a scalar was expected"),
        (3, "duplicated field id"),
        (4, "duplicated field id"),
        (5, None),
    ]
    assert all(r["id"] is None and r["_raw_line"] for r in table[:4])
    assert table[4]["note"] == "at 10:30"
