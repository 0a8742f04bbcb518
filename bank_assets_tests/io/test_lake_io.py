"""Spark <-> lake through the Python data source, over real HTTP to an S3 endpoint."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from bank_assets.io.lake import LakeError, LandingFileError, day_path
from bank_assets.io.spark.lake_source import LandingFormatError
from bank_assets.io.spark.tables import (
    count_rows,
    land_raw,
    read_raw,
    read_table,
    value_counts,
    write_split,
    write_table,
)
from bank_assets.model.sources import SourceTable
from bank_assets_tests.conftest import DAY


def test_write_replaces_exactly_one_day(spark, lake):
    other_day = DAY.replace(day=19)
    write_table(spark.range(10).withColumn("v", F.col("id") * 2), lake, "staged", "t", other_day)
    first = write_table(spark.range(100).repartition(3), lake, "staged", "t", DAY)
    assert first.rows == 100 and first.files == 3 and first.uri.startswith("s3://")
    second = write_table(spark.range(7).withColumn("v", F.lit("x")), lake, "staged", "t", DAY)
    assert second.rows == 7
    assert sorted(r.id for r in read_table(spark, lake, "staged", "t", DAY).collect()) == list(
        range(7)
    )
    # The other day is untouched; files are Hive-style Snappy Parquet.
    assert count_rows(lake, "staged", "t", other_day) == 10
    info = lake.files(day_path("staged", "t", DAY), ".parquet")[0]
    meta = pq.ParquetFile(lake.fs.open_input_file(info.path)).metadata
    assert meta.row_group(0).column(0).compression == "SNAPPY"
    assert "/staged/t/year=2026/month=11/day=20/part-" in info.path


def test_failed_write_leaves_previous_day_intact(spark, lake):
    write_table(spark.range(5), lake, "staged", "t", DAY)
    boom = spark.range(1000).select(
        F.when(F.col("id") == 999, F.raise_error(F.lit("boom"))).otherwise(F.col("id")).alias("id")
    )
    with pytest.raises(Exception, match="boom"):
        write_table(boom.repartition(4), lake, "staged", "t", DAY)
    assert sorted(r.id for r in read_table(spark, lake, "staged", "t", DAY).collect()) == list(
        range(5)
    )


def test_empty_day_keeps_its_schema(spark, lake):
    written = write_table(spark.range(3).where("id < 0"), lake, "staged", "empty", DAY)
    assert written.rows == 0
    df = read_table(spark, lake, "staged", "empty", DAY)
    assert df.columns == ["id"] and df.count() == 0


def test_reads_only_the_rows_of_the_given_values_and_finds_repeated_keys(spark, lake):
    keys = spark.range(40).select(
        (F.col("id") % 30).cast("string").alias("k"), F.col("id").alias("n")
    )
    write_table(keys.repartition(3), lake, "raw", "t", DAY)
    only = read_table(spark, lake, "raw", "t", DAY, only=("k", ["3", "7", "31"]))
    assert sorted((r.k, r.n) for r in only.collect()) == [("3", 3), ("3", 33), ("7", 7), ("7", 37)]
    raw, repeats = read_raw(spark, lake, "t", DAY, "k")
    assert raw.count() == 40
    assert sorted(r.n for r in repeats.collect()) == [n for n in range(40) if n % 30 < 10]
    write_table(keys.where("id < 30"), lake, "raw", "t", DAY)
    assert read_raw(spark, lake, "t", DAY, "k")[1] is None  # no key repeats


def test_split_routes_rows_to_their_tables(spark, lake):
    df = spark.range(10).select(
        "id", F.when(F.col("id") % 3 == 0, "a").when(F.col("id") % 3 == 1, "b").alias("route")
    )
    out = write_split(
        df, lake, DAY, "route", {"a": ("staged", "a", ["id"]), "b": ("quarantine", "b", None)}
    )
    assert (out["a"].rows, out["b"].rows) == (4, 3)  # route None (id % 3 == 2) is not written
    assert read_table(spark, lake, "staged", "a", DAY).columns == ["id"]
    assert read_table(spark, lake, "quarantine", "b", DAY).columns == ["id", "route"]
    assert value_counts(lake, "quarantine", "b", DAY, "route") == {"b": 3}
    assert value_counts(lake, "staged", "a", DAY, "id") == {0: 1, 3: 1, 6: 1, 9: 1}


def test_reading_a_missing_day_says_what_to_do(spark, lake):
    with pytest.raises(
        LakeError, match=r"materialize \[staged, nothing\] for partition 2026-11-20"
    ):
        read_table(spark, lake, "staged", "nothing", DAY)


def test_landing_becomes_raw_one_file_per_landed_file_and_replaces_the_day(spark, lake):
    schema = SourceTable("t", "csv", ("k", "v"), key="k", grain="one row").raw_schema()
    landing = day_path("landing", "t", DAY)
    lake.write_bytes(f"{landing}/part-00000.csv", b"k,v\n1,a\n2,b,extra\n3,c\n")
    lake.write_bytes(f"{landing}/part-00001.csv", b"k,v\n4,d\n")
    written, files = land_raw(spark, lake, "t", DAY, "csv", schema)
    assert (written.rows, written.files, len(files)) == (4, 2, 2)
    rows = {r.k or r._raw_line: r for r in read_table(spark, lake, "raw", "t", DAY).collect()}
    assert rows["4"]._source_file.endswith("part-00001.csv") and rows["4"]._line == 2
    assert rows["2,b,extra"]._error == "expected 2 fields, found 3" and rows["1"].v == "a"
    assert rows["3"]._landed_at is not None

    # A file that cannot be landed fails the whole day and leaves the previous raw day as it was.
    lake.write_bytes(f"{landing}/part-00002.csv", b"k,wrong\n5,e\n")
    with pytest.raises(Exception, match=r"part-00002.csv: line 1: header"):
        land_raw(spark, lake, "t", DAY, "csv", schema)
    assert count_rows(lake, "raw", "t", DAY) == 4
    assert len(lake.files(day_path("raw", "t", DAY), ".parquet")) == 2

    # Landing again replaces the day: no row twice.
    lake.write_bytes(f"{landing}/part-00002.csv", b"k,v\n5,e\n")
    assert land_raw(spark, lake, "t", DAY, "csv", schema)[0].rows == 5
    assert count_rows(lake, "raw", "t", DAY) == 5


MASTER = SourceTable("t", "csv", ("k", "v"), key="k", grain="one row", snapshot=True)
LANDING = day_path("landing", "t", DAY)
PART0, PART1 = f"{LANDING}/part-00000.csv", f"{LANDING}/part-00001.csv"


def _entry(*files: tuple[str, int]) -> dict:
    return {"rows": sum(r for _, r in files), "files": [{"path": p, "rows": r} for p, r in files]}


# (what is wrong, the landing files then, the manifest entry, the error, its message)
WHOLE_FILE_PROBLEMS = {
    "missing listed file": (
        {PART0: b"k,v\n1,a\n"},
        _entry((PART0, 1), (PART1, 1)),
        LandingFileError,
        rf"^{PART1}: listed in landing/manifests/2026-11-20.json but not landed: re-deliver",
    ),
    "unlisted extra file": (
        {PART0: b"k,v\n1,a\n", PART1: b"k,v\n2,b\n"},
        _entry((PART0, 1)),
        LandingFileError,
        rf"^{PART1}: landed but not listed in .*; add it to the manifest",
    ),
    "zero-byte master": (
        {PART0: b""},
        _entry((PART0, 1)),
        LandingFileError,
        rf"^{PART0}: line 1: the file is empty \(0 bytes\), but t is a full daily snapshot",
    ),
    "header-only master": (
        {PART0: b"k,v\n"},
        _entry((PART0, 0)),
        LandingFileError,
        rf"^{PART0}: line 2: the file has no records, but t is a full daily snapshot",
    ),
    "CR-only line endings": (
        {PART0: b"k,v\r1,a\r"},
        _entry((PART0, 1)),
        LandingFormatError,
        rf"^{PART0}: line 1 ends with a lone carriage return .*: re-deliver the file with LF",
    ),
}


@pytest.mark.parametrize("case", list(WHOLE_FILE_PROBLEMS))
def test_a_whole_file_problem_refuses_the_day_naming_the_file(spark, lake, case):
    schema = MASTER.raw_schema()
    lake.write_bytes(PART0, b"k,v\n1,a\n2,b\n")
    land_raw(spark, lake, "t", DAY, "csv", schema, manifest=_entry((PART0, 2)), snapshot=True)
    before = [i.path for i in lake.files(day_path("raw", "t", DAY))]

    files, entry, error, message = WHOLE_FILE_PROBLEMS[case]
    lake.delete_dir_contents(LANDING)
    for path, data in files.items():
        lake.write_bytes(path, data)
    with pytest.raises(error, match=message) as raised:
        land_raw(spark, lake, "t", DAY, "csv", schema, manifest=entry, snapshot=True)
    assert type(raised.value) is error and "Traceback" not in str(raised.value)  # not wrapped
    assert [i.path for i in lake.files(day_path("raw", "t", DAY))] == before  # nothing new
    assert count_rows(lake, "raw", "t", DAY) == 2


def test_a_header_only_event_file_is_a_quiet_day_when_the_manifest_says_so(spark, lake):
    events = SourceTable("t", "csv", ("k", "v"), key="k", grain="one event")
    lake.write_bytes(PART0, b"k,v\n")
    written, _ = land_raw(spark, lake, "t", DAY, "csv", events.raw_schema(), _entry((PART0, 0)))
    assert written.rows == 0
    with pytest.raises(LandingFileError, match=rf"^{PART0}: line 2: .* lists 3 rows for it"):
        land_raw(spark, lake, "t", DAY, "csv", events.raw_schema(), _entry((PART0, 3)))


def test_card_numbers_are_masked_as_they_land_in_every_text_column(spark, lake):
    """CSV and JSON lines, several columns, malformed lines: raw Parquet holds masked numbers
    only, and land_raw counts them per landing file."""
    columns = ("k", "note", "ref")
    landing = day_path("landing", "c", DAY)
    lake.write_bytes(
        f"{landing}/part-00000.csv",
        "k,note,ref\n"
        '1,"card 4539  1488  0343  6467",ok\n'
        "2,plain,4539.1488.0343.6467\n"
        '3,"4111\u00a01111\u00a01111\u00a01111 / 5500-0000-0000-0004",x\n'
        "4,card:4539148803436467x,5,extra\n".encode(),
    )
    written, _ = land_raw(
        spark, lake, "c", DAY, "csv", SourceTable("c", "csv", columns, "k", "row").raw_schema()
    )
    assert list(written.cards_masked.values()) == [5]
    rows = {r["_line"]: r for r in _raw_rows(lake, "c")}
    assert rows[2]["note"] == "card 4539  14**  ****  6467" and rows[2]["ref"] == "ok"
    assert rows[3]["ref"] == "4539.14**.****.6467"
    assert rows[4]["note"] == "4111\u00a011**\u00a0****\u00a01111 / 5500-00**-****-0004"
    assert rows[5]["_raw_line"] == "4,card:453914******6467x,5,extra" and rows[5]["k"] is None

    landing = day_path("landing", "j", DAY)
    lake.write_bytes(
        f"{landing}/part-00000.jsonl",
        b'{"k": "1", "note": "4539/1488/0343/6467", "ref": 4539148803436467}\n'
        b'{"k": "2", "note": "fine", "ref": "none"}\n'
        b'{"k": "3", "note": "pan 4539\\u00a01488\\u00a00343\\u00a06467", \n',
    )
    written, _ = land_raw(
        spark, lake, "j", DAY, "jsonl", SourceTable("j", "jsonl", columns, "k", "row").raw_schema()
    )
    assert list(written.cards_masked.values()) == [3]
    rows = {r["_line"]: r for r in _raw_rows(lake, "j")}
    assert (rows[1]["note"], rows[1]["ref"]) == ("4539/14**/****/6467", "453914******6467")
    assert rows[2]["note"] == "fine"
    assert rows[3]["_raw_line"].startswith('{"k": "3", "note": "pan 4539\\u00a014**\\u00a0****')
    assert rows[3]["_error"].startswith("invalid JSON")


def _raw_rows(lake, table: str) -> list[dict]:
    """The raw day's rows as stored, read straight from its Parquet files."""
    return [
        row
        for info in lake.files(day_path("raw", table, DAY), ".parquet")
        for row in pq.read_table(lake.fs.open_input_file(info.path)).to_pylist()
    ]


def _parquet(lake, zone: str, day, columns: dict) -> None:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink)
    lake.write_bytes(f"{day_path(zone, 't', day)}/part-x.parquet", sink.getvalue().to_pybytes())


def test_staged_before_finds_only_the_keys_an_earlier_day_staged(local_lake):
    """Re-deliveries are looked up on the driver: none on a day that shares no key with the
    days before it (the usual day), the earlier day and hash of each key that it shares."""
    from datetime import timedelta

    from bank_assets.io.spark.tables import staged_before

    earlier, before = DAY - timedelta(days=1), DAY - timedelta(days=2)
    _parquet(local_lake, "staged", earlier, {"k": ["A", "B"], "record_hash": ["ha", "hb"]})
    _parquet(local_lake, "staged", before, {"k": ["B", "C"], "record_hash": ["hb0", "hc"]})
    _parquet(local_lake, "raw", DAY, {"k": ["X", "Y"]})
    assert staged_before(local_lake, "t", DAY, "k", 3) == {}
    _parquet(local_lake, "raw", DAY, {"k": ["X", " B", "C"]})
    assert staged_before(local_lake, "t", DAY, "k", 3) == {
        " B": ("hb0", before),  # the earliest staging of a key
        "C": ("hc", before),
    }
    assert staged_before(local_lake, "t", DAY, "k", 1) == {" B": ("hb", earlier)}
