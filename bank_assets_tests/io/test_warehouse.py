"""Warehouse loads on a real PostgreSQL server: atomic day swaps, SCD2 merges, idempotence."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import dagster as dg
import psycopg
import pytest
from psycopg import sql
from pyspark.sql import functions as F

from bank_assets.io.spark.tables import copy_to_warehouse, land_raw, read_raw, write_table
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.model import dimensions, facts, fraud, staging
from bank_assets.model.sources import SOURCES
from bank_assets.model.tables import TABLES, WarehouseTable
from bank_assets.resources import WarehouseResource
from bank_assets.simulator import simulate
from bank_assets_tests.builders import query
from bank_assets_tests.conftest import DAY


@pytest.fixture(scope="module")
def curated(spark, tmp_path_factory):
    """A small day taken landing -> curated with the library functions (no Dagster)."""
    from bank_assets.io.lake import Lake, LakeConfig

    lake = Lake(LakeConfig(url=str(tmp_path_factory.mktemp("lake"))))
    (result,) = simulate(lake, DAY, 1, 600, seed=5)
    staged = {}
    for name, source in SOURCES.items():
        land_raw(spark, lake, name, DAY, source.file_format, source.raw_schema())
        raw, repeats = read_raw(spark, lake, name, DAY, source.key)
        classified, _ = staging.classify(raw, repeats, staging.STAGING[name], DAY)
        rows = staging.dispose(classified, staging.STAGING[name], DAY)
        staged[name] = (
            rows.where(F.col("_disposition") == staging.STAGED)
            .select(*staging.staged_columns(staging.STAGING[name]))
            .cache()
        )
    dims = {
        "dw.dim_dates": dimensions.dim_dates(spark, DAY),
        "dw.dim_clients": dimensions.dim_clients(staged["clients"], DAY).cache(),
        "dw.dim_accounts": dimensions.dim_accounts(staged["accounts"], DAY).cache(),
        "dw.dim_products": dimensions.dim_products(staged["products"], DAY).cache(),
        "dw.dim_merchants": dimensions.dim_merchants(staged["merchants"], DAY).cache(),
        "dw.dim_currencies": dimensions.dim_currencies(staged["fx_rates"], DAY).cache(),
    }
    fact = facts.fact_transactions(
        staged["transactions"],
        staged["transactions"].select(*fraud.COLUMNS),
        dims["dw.dim_accounts"],
        None,
        dims["dw.dim_clients"],
        None,
        dims["dw.dim_products"],
        dims["dw.dim_merchants"],
        staged["fx_rates"],
        DAY,
    ).cache()
    return {
        "spark": spark,
        "lake": lake,
        "clients": dims["dw.dim_clients"],
        "accounts": dims["dw.dim_accounts"],
        "dims": dims,
        "fact": fact,
        "manifest": result.manifest,
    }


def load(curated: dict, wh: Warehouse, df, table: WarehouseTable, day=DAY):
    """`df` written to the lake as a table of its own, then loaded as the warehouse assets do."""
    name = f"frame_{uuid.uuid4().hex[:8]}"
    write_table(df, curated["lake"], "curated", name, day)
    return wh.load(
        lambda stage: copy_to_warehouse(
            curated["spark"], curated["lake"], "curated", name, day, wh.dsn, stage
        ),
        table,
        day,
    )


def load_dimensions(wh: Warehouse, curated: dict) -> None:
    """What the fact's foreign keys point to, loaded first (as the warehouse assets do)."""
    from bank_assets.defs.reference import assets as reference_assets

    for table, df in curated["dims"].items():
        load(curated, wh, df, TABLES[table])
    for asset in reference_assets:
        dg.materialize(
            [asset],
            partition_key=DAY.isoformat(),
            resources={"warehouse": WarehouseResource(dsn=wh.dsn)},
        )


def test_fact_load_is_atomic_and_idempotent(curated, pg_dsn):
    wh = Warehouse(pg_dsn)
    # Sessions of this database default to another zone than UTC: the loaded timestamps must
    # keep their instants all the same (the COPY writes them as UTC wall time).
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        database = conn.info.dbname
        conn.execute(
            sql.SQL("alter database {} set timezone to 'America/New_York'").format(
                sql.Identifier(database)
            )
        )
    load_dimensions(wh, curated)
    fact = TABLES["dw.fact_transactions"]
    expected = curated["manifest"]["tables"]["transactions"]["expected"]["staged"]
    assert load(curated, wh, curated["fact"], fact, DAY).rows == expected
    instants = "select transaction_id, posted_at, landed_at from dw.fact_transactions"
    lake = curated["fact"].select("transaction_id", "posted_at", "landed_at").toArrow().to_pylist()
    assert {tuple(r.values()) for r in lake} == set(query(pg_dsn, instants))
    snapshot = query(pg_dsn, "select * from dw.fact_transactions order by transaction_id")
    assert len(snapshot) == expected
    assert load(curated, wh, curated["fact"], fact, DAY).rows == expected
    assert query(pg_dsn, "select * from dw.fact_transactions order by transaction_id") == snapshot
    assert query(
        pg_dsn,
        "select count(*) from pg_inherits where inhparent = 'dw.fact_transactions'::regclass",
    ) == [(1,)]
    # The day's partition carries every index of the parent, each attached to its parent index
    # (built before the swap, not again by ATTACH), and its primary key; no index is left over.
    (partition,) = query(
        pg_dsn,
        "select inhrelid::regclass::text from pg_inherits "
        "where inhparent = 'dw.fact_transactions'::regclass",
    )[0]
    parents = query(
        pg_dsn, "select count(*) from pg_index where indrelid = 'dw.fact_transactions'::regclass"
    )[0][0]
    attached = query(
        pg_dsn,
        "select count(*) from pg_index i join pg_inherits h on h.inhrelid = i.indexrelid "
        "where i.indrelid = %s::regclass",
        (partition,),
    )[0][0]
    indexes = len(
        query(pg_dsn, "select 1 from pg_index where indrelid = %s::regclass", (partition,))
    )
    assert parents == attached == indexes >= 7
    assert query(
        pg_dsn,
        "select count(*) from pg_constraint where conrelid = %s::regclass and contype = 'p'",
        (partition,),
    ) == [(1,)]

    # A load that fails half way leaves the day's previous rows in place and no staging tables.
    boom = curated["fact"].withColumn(
        "amount",
        F.when(F.col("transaction_id").endswith("7"), F.lit(-1)).otherwise(F.col("amount")),
    )
    with pytest.raises(Exception, match=r"amount_check|check constraint"):
        load(curated, wh, boom, fact, DAY)
    assert query(pg_dsn, "select * from dw.fact_transactions order by transaction_id") == snapshot
    leftovers = query(
        pg_dsn,
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = 'staging' or table_name like 'fact_transactions_p%%\\_%%'",
    )
    assert leftovers == []


def test_scd2_versions_chain_and_reruns_add_nothing(curated, pg_dsn):
    wh = Warehouse(pg_dsn)
    dim = TABLES["dw.dim_clients"]
    day2 = DAY + timedelta(days=1)
    moved = curated["clients"].first()["client_id"]
    staged_day2 = curated["clients"].select(
        *[
            c
            for c in curated["clients"].columns
            if c not in ("client_key", "row_hash", "valid_from", "city")
        ],
        F.when(F.col("client_id") == moved, F.lit("Brest")).otherwise(F.col("city")).alias("city"),
    )
    clients_day2 = dimensions.dim_clients(staged_day2, day2)

    load(curated, wh, curated["clients"], dim, DAY)
    load(curated, wh, clients_day2, dim, day2)
    snapshot = query(pg_dsn, "select * from dw.dim_clients order by client_key")
    load(curated, wh, curated["clients"], dim, DAY)  # re-running an earlier day changes nothing
    load(curated, wh, clients_day2, dim, day2)
    assert query(pg_dsn, "select * from dw.dim_clients order by client_key") == snapshot

    versions = query(
        pg_dsn,
        "select city, valid_from, valid_to, is_current, version from dw.dim_clients "
        "where client_id = %s order by version",
        (moved,),
    )
    assert [(v[3], v[4]) for v in versions] == [(False, 1), (True, 2)]
    assert versions[0][2] == versions[1][1] == day2  # no gap, no overlap
    assert versions[1][0] == "Brest"
    n_clients = curated["clients"].count()
    assert query(
        pg_dsn, "select count(*) from dw.dim_clients where is_current and client_key <> -1"
    ) == [(n_clients,)]
    assert query(pg_dsn, "select count(*) from dw.dim_clients where client_key = -1") == [(1,)]

    # A corrected re-delivery of day 2 replaces the version day 2 introduced.
    corrected = dimensions.dim_clients(
        staged_day2.withColumn(
            "city", F.when(F.col("client_id") == moved, "Quimper").otherwise(F.col("city"))
        ),
        day2,
    )
    load(curated, wh, corrected, dim, day2)
    versions = query(
        pg_dsn,
        "select city, valid_to, is_current from dw.dim_clients where client_id = %s "
        "order by version",
        (moved,),
    )
    assert [v[0] for v in versions][1:] == ["Quimper"] and len(versions) == 2
    assert versions[0][1] == day2 and versions[1][2]

    # The exclusion constraint refuses a second version valid on the same days (at commit).
    with pytest.raises(psycopg.errors.ExclusionViolation), psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "insert into dw.dim_clients (client_key, client_id, row_hash, valid_from) "
            "select client_key + 1000000, client_id, 'overlap', valid_from + 1 "
            "from dw.dim_clients where client_id = %s and is_current",
            (moved,),
        )


def test_names_e_mail_and_birth_date_are_type_1_on_every_version(curated, pg_dsn):
    """A change of first or last name, e-mail or birth date reaches every version of the client
    (type 1: a correction, not a new version); re-running an older day never brings the old
    values back; a client missing from a day's load keeps its current version."""
    wh = Warehouse(pg_dsn)
    dim = TABLES["dw.dim_clients"]
    day2, day3 = DAY + timedelta(days=1), DAY + timedelta(days=2)
    moved, renamed, absent = [r["client_id"] for r in curated["clients"].head(3)]
    staged = curated["clients"].drop("client_key", "row_hash", "valid_from")

    def change(df, client, **values):
        return df.select(
            *[
                F.when(F.col("client_id") == client, F.lit(values[c]).cast(df.schema[c].dataType))
                .otherwise(F.col(c))
                .alias(c)
                if c in values
                else c
                for c in df.columns
            ]
        )

    day2_rows = change(staged, moved, city="Brest", email="new@example.org")
    day2_rows = change(day2_rows, renamed, last_name="Martin-Durand", birth_date=DAY)
    day3_rows = day2_rows.where(F.col("client_id") != absent)  # its row quarantined on day 3
    version = (
        "select client_key, version, valid_from, valid_to, is_current, city, email "
        "from dw.dim_clients where client_id = %s"
    )
    load(curated, wh, curated["clients"], dim, DAY)
    (before,) = query(pg_dsn, version, (absent,))
    load(curated, wh, dimensions.dim_clients(day2_rows, day2), dim, day2)
    load(curated, wh, dimensions.dim_clients(day3_rows, day3), dim, day3)

    def versions(client: str) -> list[tuple]:
        return query(
            pg_dsn,
            "select version, is_current, city, email, last_name, birth_date, described_on "
            "from dw.dim_clients where client_id = %s order by version",
            (client,),
        )

    old = curated["clients"].where(F.col("client_id") == moved).first()
    assert [v[:4] for v in versions(moved)] == [
        (1, False, old["city"], "new@example.org"),  # the older version too
        (2, True, "Brest", "new@example.org"),
    ]
    assert [v[:2] + v[4:] for v in versions(renamed)] == [(1, True, "Martin-Durand", DAY, day2)]
    snapshot = query(pg_dsn, "select * from dw.dim_clients order by client_key")
    load(curated, wh, curated["clients"], dim, DAY)  # an older day re-run: nothing comes back
    load(curated, wh, dimensions.dim_clients(day2_rows, day2), dim, day2)
    assert query(pg_dsn, "select * from dw.dim_clients order by client_key") == snapshot
    # the client missing from day 3 keeps its one version, current and open-ended
    assert query(pg_dsn, version, (absent,)) == [before]
    assert before[1:5] == (1, DAY, date(9999, 12, 31), True)


def test_status_lists_every_table_with_partitions(curated, pg_dsn):
    wh = Warehouse(pg_dsn)
    load_dimensions(wh, curated)
    load(curated, wh, curated["fact"], TABLES["dw.fact_transactions"], DAY)
    status = wh.status()["tables"]
    assert set(status) >= {"fact_transactions", "dim_clients", "dim_accounts", "dim_dates"}
    n = curated["fact"].count()
    assert status["fact_transactions"] == {
        "rows": n,
        "per_day": True,
        "partitions": {DAY.isoformat(): n},
    }


def test_count_keys_finds_only_the_keys_loaded(pg_dsn):
    warehouse = Warehouse(pg_dsn)
    table = TABLES["dw.dim_channels"]
    rows = [
        {
            "channel_key": 1,
            "channel": "POS",
            "description": "Card terminal",
            "is_card_not_present": False,
        },
        {
            "channel_key": 2,
            "channel": "ATM",
            "description": "Cash machine",
            "is_card_not_present": False,
        },
    ]
    warehouse.upsert_rows(table, rows)
    assert warehouse.count_keys(table, [1, 2]) == 2
    assert warehouse.count_keys(table, [1, 2, 99]) == 2  # 99 never loaded: keys_loaded fails


def test_dim_dates_takes_the_curated_columns_french_holidays_included(curated, pg_dsn):
    wh = Warehouse(pg_dsn)
    load(curated, wh, curated["dims"]["dw.dim_dates"], TABLES["dw.dim_dates"])
    columns = query(
        pg_dsn,
        "select column_name, is_nullable = 'YES' from information_schema.columns "
        "where table_schema = 'dw' and table_name = 'dim_dates' order by ordinal_position",
    )
    assert columns == [(f.name, f.nullable) for f in dimensions.DIM_DATES_SCHEMA.fields]
    assert query(
        pg_dsn,
        "select is_french_holiday, french_holiday_name, is_target2_holiday, is_business_day "
        "from dw.dim_dates where date_key in (20261111, 20260403) order by date_key",
    ) == [(False, None, True, False), (True, "Armistice Day", False, True)]
    assert query(pg_dsn, "select count(*) from dw.dim_dates where is_target2_holiday") == [
        (6 * 21,)
    ]
