"""The star schema over three days landed with planted master-data changes and fraud: SCD2
invariants, keys that resolve, exact balance chains, paired transfer legs, the revenue identity,
loan arithmetic, analyst queries checked against independent computations, idempotent re-runs."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

import dagster as dg
import pandas as pd
import psycopg
import pytest

from bank_assets.analyst import queries
from bank_assets.definitions import defs as load_defs
from bank_assets.io.lake import Lake
from bank_assets.io.spark.tables import read_day
from bank_assets.model.tables import TABLES
from bank_assets.simulator import build_population, clients_on, population_size, simulate
from bank_assets_tests.conftest import DAY, TEST_BUCKET

defs = load_defs()

pytestmark = pytest.mark.slow
TX, SEED = 20_000, 5
DAYS = [DAY - timedelta(days=2 - i) for i in range(3)]


@dataclasses.dataclass
class Star:
    dsn: str  # the loader's
    analyst_dsn: str  # the read-only analyst's: the analyst queries run as it
    lake: Lake
    resources: dict
    manifests: list[dict]

    def rows(self, sql: str, params=()) -> list[tuple]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()

    def frame(self, zone: str, table: str, day) -> pd.DataFrame:
        return read_day(self.lake, zone, table, day).to_pandas()


def run_range(resources) -> None:
    job = defs.resolve_job_def("daily_warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            resources=resources,
            tags={
                "dagster/asset_partition_range_start": DAYS[0].isoformat(),
                "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
            },
        )
        assert result.success
        assert len(instance.get_runs()) == 1  # three days, one run, one Spark session


@pytest.fixture(scope="module")
def star(spark, s3_env, pg_data) -> Star:
    from bank_assets.io.warehouse.embedded import embedded_analyst_dsn, embedded_postgres_dsn
    from bank_assets.resources import LakeResource, SparkResource, WarehouseResource
    from bank_assets.settings import Settings

    database = f"star_{uuid.uuid4().hex[:8]}"
    dsn = embedded_postgres_dsn(pg_data, database)
    url = f"s3://{TEST_BUCKET}/star-{uuid.uuid4().hex[:8]}"
    lake = Lake(dataclasses.replace(Settings.from_env().lake_config, url=url))
    landed = simulate(lake, DAYS[0], 3, TX, seed=SEED)
    resources = {
        "spark": SparkResource(spark_config={"spark.master": "local[2]"}),
        "lake": LakeResource(url=url),
        "warehouse": WarehouseResource(dsn=dsn),
    }
    run_range(resources)
    analyst = embedded_analyst_dsn(pg_data, database)
    return Star(dsn, analyst, lake, resources, [r.manifest for r in landed])


def test_every_day_of_every_fact_is_loaded(star):
    loaded = dict(
        star.rows("select batch_id, count(*) from dw.fact_transactions group by 1 order by 1")
    )
    assert loaded == {
        d: m["tables"]["transactions"]["expected"]["staged"] for d, m in zip(DAYS, star.manifests)
    }
    for table in ("fact_payments", "fact_revenue", "fact_fraudes", "dim_satisfaction"):
        per_day = dict(star.rows(f"select batch_id, count(*) from dw.{table} group by 1"))
        assert set(per_day) == set(DAYS), table
    landed_loans = star.manifests[-1]["tables"]["loans"]["rows"]
    assert star.rows("select count(*), max(date_key) from dw.fact_loans") == [
        (landed_loans, int(DAYS[-1].strftime("%Y%m%d")))
    ]


@pytest.mark.parametrize(("table", "natural", "frame"), [("dim_clients", "client_id", "clients")])
def test_scd2_versions_follow_the_planted_changes(star, table, natural, frame):
    pop = build_population(SEED, population_size(TX))
    tracked = ["segment", "address_line", "postal_code", "city", "kyc_status", "risk_rating"]
    tracked.append("status")
    states = [clients_on(pop, d).set_index(natural)[tracked] for d in DAYS]
    changes = sum((a != b).any(axis=1) for a, b in itertools.pairwise(states))
    expected_versions = int(len(states[0]) + changes.sum())
    assert changes.sum() > 0  # the simulator planted changes
    assert star.rows(f"select count(*) from dw.{table} where {natural} <> 'UNKNOWN'") == [
        (expected_versions,)
    ]
    # exactly one current row per key, no overlap and no gap in validity
    assert star.rows(
        f"select count(*) from (select {natural} from dw.{table} group by 1 "
        "having count(*) filter (where is_current) <> 1) x"
    ) == [(0,)]
    assert star.rows(
        f"""select count(*) from (
              select valid_to, lead(valid_from) over w as next_from, is_current
              from dw.{table} window w as (partition by {natural} order by valid_from)) v
            where (next_from is null) <> is_current
               or (next_from is not null and next_from <> valid_to)"""
    ) == [(0,)]


def test_facts_take_the_version_valid_at_the_event(star):
    # every posting's client version was valid on its business day
    assert star.rows(
        """select count(*) from dw.fact_transactions f join dw.dim_clients c using (client_key)
           join dw.dim_dates d using (date_key)
           where f.client_key <> -1
             and not (c.valid_from <= d.full_date and d.full_date < c.valid_to)"""
    ) == [(0,)]
    assert star.rows("select count(*) from dw.fact_transactions where client_key = -1") == [
        (sum(m["tables"]["transactions"]["defects"]["orphan_account"] for m in star.manifests),)
    ]


def test_every_fact_key_resolves(star):
    with psycopg.connect(star.dsn) as conn:
        fks = conn.execute(
            """select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, fa.attname
               from pg_constraint c
               join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
               join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
               where c.contype = 'f' and c.conrelid::regclass::text like 'dw.%'
                 and c.conparentid = 0"""
        ).fetchall()
        assert len(fks) >= 25
        for table, column, dim, key in fks:
            orphans = conn.execute(
                f"select count(*) from {table} t left join {dim} d on d.{key} = t.{column} "
                f"where d.{key} is null"
            ).fetchone()[0]
            assert orphans == 0, (table, column)
    # every alert is one flagged posting
    assert star.rows(
        "select count(*) from dw.fact_fraudes a left join dw.fact_transactions f "
        "using (date_key, transaction_id) where f.transaction_id is null or not f.is_fraud_flagged"
    ) == [(0,)]


def test_fraud_alerts_find_what_the_simulator_planted(star):
    planted = {tx for m in star.manifests for tx in m["fraud"]}
    alerts = {r[0] for r in star.rows("select transaction_id from dw.fact_fraudes")}
    found = planted & alerts
    assert len(planted) > 20
    assert len(found) / len(alerts) >= 0.9  # precision
    assert len(found) / len(planted) >= 0.9  # recall


def test_balance_chain_is_exact_to_the_cent(star):
    # A conflicting duplicate quarantines a real posting: its account's chain has a known gap.
    gaps = (
        "select raw_payload::json->>'account_id' from quarantine.transactions "
        "where rule_id = 'conflicting_duplicate'"
    )
    broken = star.rows(
        f"""select count(*), count(distinct account_id) from (
             select account_id, balance_after, signed_amount, status,
                    lag(balance_after) over w as previous
             from dw.fact_transactions
             where account_key <> -1 and account_id not in ({gaps})
             window w as (partition by account_id order by posted_at, transaction_id)) x
           where previous is not null
             and balance_after
                 <> previous + case when status = 'POSTED' then signed_amount else 0 end"""
    )
    assert broken == [(0, 0)]
    checked = star.rows(
        f"select count(distinct account_id) from dw.fact_transactions where account_key <> -1 "
        f"and account_id not in ({gaps})"
    )[0][0]
    assert checked > 1_000


def test_transfer_legs_pair_up(star):
    assert star.rows(
        """select count(*) from (
             select transfer_id from dw.fact_transactions where transfer_id like 'TRF%%'
             group by transfer_id
             having count(*) <> 2 or count(distinct account_id) <> 2
                 or count(distinct amount) <> 1 or count(distinct status) <> 1
                 or sum(signed_amount) <> 0) x"""
    ) == [(0,)]
    assert star.rows(
        "select count(*) > 0 from dw.fact_transactions where transfer_id like 'TRF%%'"
    )[0][0]


def test_revenue_identity_and_fee_income_from_postings(star):
    assert star.rows(
        "select count(*) from dw.fact_revenue "
        "where profit <> interest_income + fee_income + other_income - operating_cost - provisions"
    ) == [(0,)]
    mismatches = star.rows(
        """with fees as (
             select f.date_key, a.branch_code, a.product_code, sum(f.amount_eur) as eur
             from dw.fact_transactions f join dw.dim_accounts a using (account_key)
             where f.transaction_type = 'FEE' and f.status = 'POSTED'
             group by 1, 2, 3),
           late as (
             select p.date_key, l.branch_code, l.product_code, sum(p.late_fee) as eur
             from dw.fact_payments p join dw.fact_loans l using (loan_id) group by 1, 2, 3)
           select r.date_key, r.branch_code, r.product_code
           from dw.fact_revenue r
           left join fees using (date_key, branch_code, product_code)
           left join late using (date_key, branch_code, product_code)
           where r.fee_income <> coalesce(fees.eur, 0) + coalesce(late.eur, 0)"""
    )
    assert mismatches == []


def test_loan_arithmetic(star):
    assert star.rows("select count(*) from dw.fact_payments") != [(0,)]
    assert star.rows(
        "select count(*) from dw.fact_payments p left join dw.fact_loans l using (loan_id) "
        "where l.loan_id is null or p.amount_due <> p.principal_part + p.interest_part + p.fee_part"
        " or (p.status = 'PAID' and p.paid_amount <> p.amount_due)"
    ) == [(0,)]
    assert star.rows(
        "select count(*) from dw.fact_loans where outstanding_principal > principal "
        "or (status = 'CLOSED' and outstanding_principal <> 0) "
        "or (status = 'DEFAULTED' and days_past_due <= 90)"
    ) == [(0,)]


def answer(star, name, day=DAYS[-1]) -> pd.DataFrame:
    result = queries.run(star.analyst_dsn, name, day)
    return pd.DataFrame(result.rows, columns=result.columns)


def test_every_analyst_query_answers(star):
    assert len(queries.catalogue()) >= 12
    for name in queries.catalogue():
        assert len(answer(star, name)) > 0, name


def test_analysts_see_real_clients_and_accounts_masked(star):
    """On loaded data: the analyst's views show initials and masked IBANs for every current
    client and account, the loader's tables the full values; the analyst cannot read dw."""
    with psycopg.connect(star.analyst_dsn) as conn:
        clients = conn.execute(
            "select client_id, first_name, last_name, email from analyst.dim_clients "
            "where is_current and client_key <> -1"
        ).fetchall()
        ibans = conn.execute("select account_id, iban from analyst.v_accounts_current").fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select iban from dw.dim_accounts")
    full = dict(star.rows("select client_id, last_name from dw.dim_clients where is_current"))
    full_ibans = dict(star.rows("select account_id, iban from dw.dim_accounts where is_current"))
    assert len(clients) > 100 and len(ibans) > 100
    for client_id, first, last, email in clients:
        assert (len(first), len(last)) == (2, 2) and first.endswith(".") and last.endswith(".")
        assert last[0] == full[client_id][0] and len(full[client_id]) > 2
        assert email is None or email[1:4] == "***"
    for account_id, iban in ibans:
        whole = full_ibans[account_id]
        assert iban != whole and iban[:4] == whole[:4] and iban[-4:] == whole[-4:]
        assert set(iban[4:-4]) == {"*"}


def test_volume_query_agrees_with_the_lake(star):
    got = answer(star, "daily_volume_by_type_channel").set_index(["transaction_type", "channel"])
    fact = star.frame("curated", "fact_transactions", DAYS[-1])
    expected = fact.groupby(["transaction_type", "channel"]).size()
    assert got["postings"].sort_index().to_dict() == expected.sort_index().to_dict()
    posted = fact[fact["status"] == "POSTED"].groupby(["transaction_type", "channel"])["amount_eur"]
    for key, eur in posted.sum().items():
        assert got.loc[key, "posted_eur"] == eur


def test_fraud_and_merchant_queries_agree_with_the_lake(star):
    fact = star.frame("curated", "fact_transactions", DAYS[-1])
    fraud = answer(star, "fraud_rate_by_type").set_index("transaction_type")
    flagged = fact[fact["is_fraud_flagged"]].groupby("transaction_type").size()
    assert fraud.loc[fraud["alerts"] > 0, "alerts"].to_dict() == flagged.to_dict()
    mcc = answer(star, "top_merchants_by_mcc")
    spend = fact[(fact["status"] == "POSTED") & (fact["direction"] == "DEBIT")]
    spend = spend[spend["merchant_id"].notna()].groupby("mcc")["amount_eur"].sum()
    top = spend.sort_values(ascending=False).head(len(mcc))
    assert list(mcc["mcc"]) == list(top.index)
    assert [Decimal(x) for x in mcc["spend_eur"]] == list(top.values)


def test_loan_and_revenue_queries_agree_with_the_sources(star):
    loans = star.frame("staged", "loans", DAYS[-1])
    disbursed = loans[loans["status"].isin(["ACTIVE", "DEFAULTED"])]
    buckets = answer(star, "loan_delinquency_buckets")
    assert buckets["loans"].sum() == len(disbursed)
    assert buckets["outstanding_eur"].sum() == disbursed["outstanding_principal"].sum()
    pnl = star.frame("staged", "branch_pnl", DAYS[-1])
    revenue = answer(star, "revenue_profit_by_product_branch")
    income = pnl["interest_income"] + pnl["fee_income"] + pnl["other_income"]
    assert revenue["revenue_eur"].sum() == income.sum()
    profit = income - pnl["operating_cost"] - pnl["provisions"]
    assert revenue["profit_eur"].sum() == profit.sum()
    collection = answer(star, "installment_collection").set_index("status")
    payments = star.frame("staged", "loan_payments", DAYS[-1])
    assert collection["installments"].to_dict() == payments.groupby("status").size().to_dict()


def test_nps_and_balance_queries_agree_with_the_sources(star):
    surveys = pd.concat([star.frame("curated", "dim_satisfaction", d) for d in DAYS])
    clients = pd.concat([star.frame("curated", "dim_clients", d) for d in DAYS])
    segment = clients.drop_duplicates("client_key").set_index("client_key")["segment"]
    surveys["segment"] = surveys["client_key"].map(segment)
    nps = answer(star, "nps_by_segment").set_index("segment")
    assert nps["responses"].to_dict() == surveys.groupby("segment").size().to_dict()
    balances = answer(star, "balances_as_of").set_index("currency")
    fact = pd.concat([star.frame("curated", "fact_transactions", d) for d in DAYS])
    fact = fact[fact["account_key"] != -1]
    last = fact.sort_values(["posted_at", "transaction_id"]).groupby("account_id").last()
    assert balances["accounts"].to_dict() == last.groupby("currency").size().to_dict()
    assert (
        balances["total_balance"].to_dict()
        == last.groupby("currency")["balance_after"].sum().to_dict()
    )


def test_rerunning_a_day_leaves_every_table_unchanged(star):
    def checksum():
        out = {}
        for table in TABLES:
            rows = star.rows(
                f"select md5(string_agg(t::text, '|' order by t::text)) from {table} t"
            )
            out[table] = rows[0][0]
        return out

    before = checksum()
    result = dg.materialize(
        list(defs.assets), partition_key=DAYS[1].isoformat(), resources=star.resources
    )
    assert result.success
    assert checksum() == before


def test_data_quality_query_agrees_with_the_manifests(star):
    for day, manifest in zip(DAYS, star.manifests):
        got = queries.run(star.analyst_dsn, "data_quality", day)
        by_table = {r[0]: dict(zip(got.columns, r)) for r in got.rows}
        staged = by_table["staged/transactions"]
        tx = manifest["tables"]["transactions"]
        assert (staged["rows_checked"], staged["quarantined"]) == (
            tx["rows"],
            tx["expected"]["quarantined"],
        )
        assert staged["fatal_failed"] == staged["error_failed"] == 0
        assert {f"staged/{t}" for t in manifest["tables"]} <= set(by_table)
