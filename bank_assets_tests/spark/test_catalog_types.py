"""The column schemas the asset definitions declare without Spark agree with what Spark writes:
each staged table's columns and types (model/staging.py's kinds), and each curated table's
columns (read from the warehouse DDL). Planned on empty frames: seconds for every table."""

from __future__ import annotations

import dagster as dg

from bank_assets.builders import catalog
from bank_assets.model import dimensions as dims
from bank_assets.model import facts, fraud, staging
from bank_assets.model.sources import SOURCES
from bank_assets_tests.builders import definitions
from bank_assets_tests.conftest import DAY


def staged_frames(spark):
    """Every source's staged table, as staging writes it, from an empty landed day."""
    out = {}
    for name, spec in staging.STAGING.items():
        raw = spark.createDataFrame([], SOURCES[name].raw_schema())
        classified, _ = staging.classify(raw, None, spec, DAY)
        out[name] = staging.dispose(classified, spec, DAY).select(*staging.staged_columns(spec))
    return out


def test_staged_types_are_what_staging_writes(spark):
    graph = definitions().resolve_asset_graph()
    for name, frame in staged_frames(spark).items():
        written = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
        declared = graph.get(dg.AssetKey(["staged", name])).metadata[catalog.SCHEMA]
        assert written == [(c.name, c.type) for c in declared.columns], name


def test_curated_columns_are_what_the_transforms_write(spark):
    graph = definitions().resolve_asset_graph()
    s = staged_frames(spark)
    clients, accounts = dims.dim_clients(s["clients"], DAY), dims.dim_accounts(s["accounts"], DAY)
    products = dims.dim_products(s["products"], DAY)
    transactions = facts.fact_transactions(
        s["transactions"],
        s["transactions"].select(*fraud.COLUMNS),
        accounts,
        None,
        clients,
        None,
        products,
        dims.dim_merchants(s["merchants"], DAY),
        s["fx_rates"],
        DAY,
    )
    curated = {
        "dim_dates": dims.dim_dates(spark, DAY),
        "dim_clients": clients,
        "dim_accounts": accounts,
        "dim_products": products,
        "dim_merchants": dims.dim_merchants(s["merchants"], DAY),
        "dim_currencies": dims.dim_currencies(s["fx_rates"], DAY),
        "dim_satisfaction": dims.dim_satisfaction(s["surveys"], clients, products, DAY),
        "fact_transactions": transactions,
        "fact_fraudes": facts.fact_fraudes(transactions),
        "fact_loans": facts.fact_loans(s["loans"], accounts, clients, products, DAY),
        "fact_payments": facts.fact_payments(
            s["loan_payments"], s["loans"], accounts, clients, products, DAY
        ),
        "fact_revenue": facts.fact_revenue(s["branch_pnl"], products, DAY),
    }
    for name, frame in curated.items():
        declared = graph.get(dg.AssetKey(["curated", name])).metadata[catalog.SCHEMA]
        # by name: the COPY into the warehouse takes the Parquet's columns by name
        assert set(frame.columns) == {c.name for c in declared.columns}, name
