"""A quarantine that holds NUL bytes loads into PostgreSQL: classified by Spark, written to the
lake, copied into the warehouse (real Spark, real PostgreSQL)."""

from __future__ import annotations

import json

from bank_assets.io.spark.tables import copy_to_warehouse, write_split
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model import staging
from bank_assets.model.tables import TABLES
from bank_assets_tests.builders import query, raw_transactions
from bank_assets_tests.conftest import DAY


def test_a_nul_byte_is_quarantined_and_the_quarantine_loads_into_postgresql(
    spark, local_lake, pg_dsn
):
    spec = staging.STAGING["transactions"]
    raw = raw_transactions(
        spark,
        [
            {"transaction_id": "TX1", "description": "CARD PAYMENT\u0000Cafe"},
            {"transaction_id": "TX\u00002"},
            {"_raw_line": "TX3,A1\u0000,oops"},  # a malformed line: its payload is the line
            {"transaction_id": "TX4"},
        ],
    )
    classified, dropped = staging.classify(raw, None, spec, DAY)
    written = write_split(
        staging.dispose(classified, spec, DAY),
        local_lake,
        DAY,
        "_disposition",
        {
            staging.STAGED: ("staged", "transactions", staging.staged_columns(spec)),
            staging.QUARANTINED: ("quarantine", "transactions", staging.QUARANTINE_COLUMNS),
        },
    )
    assert (written[staging.STAGED].rows, written[staging.QUARANTINED].rows, dropped) == (
        1,
        3,
        {"exact_duplicate": 0, "exact_redelivery": 0},
    )
    wh = Warehouse(pg_dsn)
    loaded = wh.load(
        lambda stage: copy_to_warehouse(
            spark, local_lake, "quarantine", "transactions", DAY, pg_dsn, stage
        ),
        TABLES["quarantine.transactions"],
        DAY,
    )
    assert loaded.rows == 3
    rows = query(
        pg_dsn,
        "select record_key, rule_id, reason, source_file, source_line, raw_payload "
        "from quarantine.transactions order by source_line",
    )
    (tx1, tx2, tx3) = rows
    assert tx1[:2] == ("TX1", "invalid_character") and "field description" in tx1[2]
    assert tx1[3:5] == ("landing/t/part-0.csv", 2)
    # the payload is JSON: the NUL is escaped as \u0000 and reads back as the landed value
    assert "CARD PAYMENT\\u0000Cafe" in tx1[5]
    assert json.loads(tx1[5])["description"] == "CARD PAYMENT\u0000Cafe"
    assert tx2[:2] == ("TX\\u00002", "invalid_character") and "transaction_id" in tx2[2]
    assert tx3[1] == "malformed_line" and tx3[4:] == (4, "TX3,A1\\u0000,oops")
