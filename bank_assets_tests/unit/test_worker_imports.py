"""Spark's Python workers that only plan a read or a write of the project's data sources (their
schema, partitions, writer and commit calls) import io/spark/lake_source.py and
warehouse_copy.py without pyarrow, numpy and psycopg: each such worker is kept idle for reuse,
~50 MB smaller so (docs/performance.md, session 12). The modules import them where they read or
write data. Each case runs in a fresh interpreter, as a
worker is: this test process has imported pyarrow long ago."""

from __future__ import annotations

import json
import subprocess
import sys

PLAN = """
import json, sys
from pyspark.sql.types import StructType, StructField, StringType
from bank_assets.io.spark.lake_source import LakeDataSource, LandingDataSource
from bank_assets.io.spark.warehouse_copy import WarehouseCopy

schema = StructType([StructField("a", StringType())])
LandingDataSource({"lake": "{}", "files": "[]"}).schema()
LandingDataSource({"lake": "{}", "scan": "[]"}).reader(None).partitions()
writer = LakeDataSource({"lake": "{}", "run_id": "r", "routes": "[]"}).writer(schema, True)
copy = {"lake": "{}", "files": '[["a.parquet"]]', "dsn": "", "table": "s.t", "columns": "[]"}
WarehouseCopy(copy).schema()
assert len(WarehouseCopy(copy).reader(None).partitions()) == 1
heavy = ("pyarrow", "numpy", "pandas", "psycopg", "bank_assets.io.lake", "bank_assets.model.cards")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""

USE = """
import json, sys
from bank_assets.io.spark.lake_source import read_landing_csv
table = read_landing_csv(b"a,b\\n1,2\\n3\\n", ["a", "b"], "f.csv")
import bank_assets.io.spark.lake_source as source
print(json.dumps([table.num_rows, table.column("_error").to_pylist(), type(source.pa).__name__]))
"""


def run(code: str):
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_planning_a_read_or_a_write_imports_no_arrow():
    assert run(PLAN) == []


def test_reading_imports_what_it_uses_and_binds_the_module():
    rows, errors, kind = run(USE)
    assert rows == 2 and errors == [None, "expected 2 fields, found 1"]
    assert kind == "module"  # after the first use the name is pyarrow itself
