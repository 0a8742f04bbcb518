"""`bench --floor` judges its reference by the pipeline's row counts: what it reports as differing
and how it shows its figures next to the bench's steps (the Spark passes: e2e/test_cli.py)."""

from __future__ import annotations

from bank_assets.cli.floor import STEPS, differences, table

PIPELINE = {
    "raw": 1010,
    "staged": 990,
    "quarantined": 15,
    "rules": {"malformed_line": 1, "invalid_amount": 14},
    "fact_transactions": 990,
    "fact_fraudes": 3,
}


def floor_rows(**changed) -> dict:
    rows = dict(PIPELINE) | {"duplicates": 5}
    return rows | changed


def test_equal_counts_agree():
    assert differences(floor_rows(), PIPELINE) == []


def test_each_count_that_differs_is_named():
    differs = differences(floor_rows(staged=989, fact_transactions=989, duplicates=6), PIPELINE)
    assert differs == [
        "staged: floor 989, pipeline 990",
        "fact_transactions: floor 989, pipeline 990",
    ]
    rules = differences(floor_rows(rules={"invalid_amount": 15}), PIPELINE)
    assert rules == [
        "rules: floor {'invalid_amount': 15}, pipeline {'malformed_line': 1, 'invalid_amount': 14}"
    ]


def test_landed_rows_not_accounted_for_are_named():
    # equal to the pipeline's outputs, but a landed row neither staged, quarantined nor dropped
    assert differences(floor_rows(duplicates=4), PIPELINE) == [
        "landed 1010 != staged + quarantined + duplicates 1009"
    ]


def test_the_table_shows_each_step_cold_warm_and_the_benchs_own_step():
    steps = {
        s: {"cold": 2.0 + i, "warm": 1.0, "jobs": 2, "rows": {s: 7}} for i, s in enumerate(STEPS)
    }
    floor = {
        "day": "2026-11-20",
        "session_seconds": 4.31,
        "steps": steps,
        "cold_seconds": 18.25,
        "warm_seconds": 4.0,
        "agreed": False,
        "differs": ["cold pass: staged: floor 989, pipeline 990"],
    }
    bench = {
        "stage_transactions": {"seconds": 21.04},
        "warehouse/fact_transactions": {"seconds": 13.3},
    }
    lines = table(floor, bench)
    (staged,) = [line for line in lines if line.startswith("raw -> staged + quarantine")]
    assert staged.split()[5:9] == ["3.0", "1.0", "2", "stage_transactions"]
    assert "21.0" in staged and staged.endswith("staged 7")
    (raw,) = [line for line in lines if line.startswith("landing CSV -> raw Parquet")]
    assert "raw/transactions" in raw  # not in this bench's steps: no seconds shown
    assert any(line.split()[:4] == ["Spark", "session", "start", "4.3"] for line in lines)
    assert "PostgreSQL: warehouse/fact_transactions 13.3s in the bench run" in lines
    assert lines[-1] == "row counts DIFFER from the pipeline's: " + floor["differs"][0]
