"""What the asset catalog shows for every asset, from the loaded definitions (no Spark, no
server): where the table is, its columns described, owners and tags, the facts' column lineage,
and code references (linked to a git web page when the checkout has a remote: real git)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg
import pytest

from bank_assets.builders import catalog
from bank_assets.io.warehouse.ddl import declared_columns
from bank_assets.model.columns import COLUMNS, PERSONAL
from bank_assets.model.sources import SOURCES
from bank_assets_tests.builders import definitions

PACKAGE = Path(catalog.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph():
    return definitions().resolve_asset_graph()


def nodes(graph):
    return [graph.get(k) for k in sorted(graph.get_all_asset_keys(), key=lambda k: k.path)]


def table_of(key: dg.AssetKey) -> str:
    """The warehouse table of a warehouse/ asset: dw.<name> or quarantine.<source>."""
    name = key.path[1]
    return (
        f"quarantine.{name.removeprefix('quarantine_')}"
        if name in {f"quarantine_{s}" for s in SOURCES}
        else f"dw.{name}"
    )


def test_every_asset_says_where_its_table_is(graph, monkeypatch):
    for node in nodes(graph):
        layer, name = node.key.path
        if layer == "warehouse":
            assert node.metadata[catalog.TABLE_NAME] == f"bank.{table_of(node.key)}"
            assert catalog.URI not in node.metadata
        else:
            uri = node.metadata[catalog.URI]
            assert uri.startswith("file:///") and uri.endswith(f"/lake/{layer}/{name}"), uri
    names = {graph.get(k).metadata.get(catalog.TABLE_NAME) for k in graph.get_all_asset_keys()}
    assert {"bank.dw.fact_transactions", "bank.quarantine.transactions", "bank.dw.dim_dates"} <= (
        names
    )
    # a deployment's S3 lake (docker-compose) shows as its s3:// URI
    monkeypatch.setenv("BANK_ASSETS_LAKE_URL", "s3://bank-lake/lake/")
    assert catalog.lake_uri("raw/transactions") == "s3://bank-lake/lake/raw/transactions"


def test_every_column_of_every_asset_is_typed_and_described(graph):
    for node in nodes(graph):
        schema = node.metadata[catalog.SCHEMA]
        assert isinstance(schema, dg.TableSchema) and schema.columns, node.key
        for column in schema.columns:
            assert column.type and column.description, (node.key, column.name)
            assert column.description == COLUMNS[column.name]


def test_warehouse_schemas_are_the_ddl_and_lake_schemas_the_declarations(graph):
    fact = graph.get(dg.AssetKey(["warehouse", "fact_transactions"])).metadata[catalog.SCHEMA]
    by_name = {c.name: c for c in fact.columns}
    assert [c.name for c in fact.columns] == [
        c.name for c in declared_columns()["dw.fact_transactions"]
    ]
    assert by_name["amount_eur"].type == "numeric(18,2)"
    assert by_name["posted_at"].type == "timestamp with time zone"
    assert not by_name["fraud_score"].constraints.nullable
    assert by_name["fx_rate"].constraints.nullable
    revenue = graph.get(dg.AssetKey(["warehouse", "fact_revenue"])).metadata[catalog.SCHEMA]
    curated = graph.get(dg.AssetKey(["curated", "fact_revenue"])).metadata[catalog.SCHEMA]
    # generated in PostgreSQL: in the table, not in the lake's Parquet
    assert {"revenue", "profit"} <= {c.name for c in revenue.columns}
    assert not {"revenue", "profit"} & {c.name for c in curated.columns}
    raw = graph.get(dg.AssetKey(["raw", "transactions"])).metadata[catalog.SCHEMA]
    assert {c.type for c in raw.columns if not c.name.startswith("_")} == {"string"}
    staged = {
        c.name: c.type
        for c in graph.get(dg.AssetKey(["staged", "transactions"])).metadata[catalog.SCHEMA].columns
    }
    assert staged["amount"] == "decimal(18,2)" and staged["posted_at"] == "timestamp"
    assert staged["source_line"] == "bigint" and staged["batch_id"] == "date"


def test_owners_and_tags_per_domain_and_layer(graph):
    teams = set(catalog.OWNERS.values())
    for node in nodes(graph):
        (owner,) = node.owners
        assert owner in teams, node.key
        assert catalog.OWNERS[node.tags["domain"]] == owner
        assert node.tags["layer"] == node.key.path[0]
        assert node.tags["pii"] in {"true", "false"}
    fact = graph.get(dg.AssetKey(["curated", "fact_transactions"]))
    assert fact.owners == ["team:payments"] and fact.tags["domain"] == "transactions"
    assert graph.get(dg.AssetKey(["warehouse", "fact_fraudes"])).owners == ["team:risk"]
    assert graph.get(dg.AssetKey(["raw", "loans"])).owners == ["team:lending"]
    assert graph.get(dg.AssetKey(["warehouse", "dim_dates"])).owners == ["team:data-platform"]
    assert graph.get(dg.AssetKey(["staged", "clients"])).owners == ["team:customer"]
    assert graph.get(dg.AssetKey(["curated", "fact_revenue"])).owners == ["team:finance"]
    # the kinds stay Dagster's own tags
    assert graph.get(dg.AssetKey(["raw", "clients"])).kinds == {"spark", "s3", "parquet"}


def test_pii_is_tagged_on_every_asset_holding_personal_data_and_only_there(graph):
    pii = {n.key.to_user_string() for n in nodes(graph) if n.tags["pii"] == "true"}
    # clients and accounts (names, e-mails, birth dates, addresses, IBANs) in every layer, and
    # the postings, which carry the counterparty's IBAN (masked for analysts like the others)
    expected = {
        f"{layer}/{name}"
        for source, dimension in (
            ("clients", "dim_clients"),
            ("accounts", "dim_accounts"),
            ("transactions", "fact_transactions"),
        )
        for layer, name in (
            ("landing", source),
            ("raw", source),
            ("staged", source),
            ("quarantine", source),
            ("warehouse", f"quarantine_{source}"),
            ("curated", dimension),
            ("warehouse", dimension),
        )
    }
    assert pii == expected
    held = {c.name for n in nodes(graph) for c in n.metadata[catalog.SCHEMA].columns}
    assert held >= PERSONAL  # every personal column is somewhere, so the tag is not vacuous


def test_the_facts_derived_columns_have_lineage_to_upstream_columns(graph):
    curated = graph.get(dg.AssetKey(["curated", "fact_transactions"]))
    lineage = curated.metadata[catalog.LINEAGE].deps_by_column
    assert {"account_key", "client_key", "product_key", "amount_eur", "fraud_score"} <= set(lineage)
    assert {(d.asset_key.to_user_string(), d.column_name) for d in lineage["amount_eur"]} == {
        ("staged/transactions", "amount"),
        ("staged/transactions", "currency"),
        ("staged/fx_rates", "currency"),
        ("staged/fx_rates", "eur_per_unit"),
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        deps = node.metadata.get(catalog.LINEAGE)
        if deps is None:
            continue
        own = {c.name for c in node.metadata[catalog.SCHEMA].columns}
        for column, sources in deps.deps_by_column.items():
            assert column in own, (key, column)
            for dep in sources:
                # every input column is a column of an upstream asset
                assert dep.asset_key in node.parent_keys, (key, column, dep.asset_key)
                upstream = graph.get(dep.asset_key).metadata[catalog.SCHEMA]
                assert dep.column_name in {c.name for c in upstream.columns}, (key, dep)
    loaded = graph.get(dg.AssetKey(["warehouse", "fact_transactions"])).metadata[catalog.LINEAGE]
    (dep,) = loaded.deps_by_column["fraud_score"]
    assert dep == dg.TableColumnDep(["curated", "fact_transactions"], "fraud_score")
    for fact in ("fact_loans", "fact_payments", "fact_revenue", "fact_fraudes"):
        assert catalog.LINEAGE in graph.get(dg.AssetKey(["curated", fact])).metadata, fact


def test_every_asset_refers_to_the_module_declaring_it_and_its_factory(graph):
    for node in nodes(graph):
        references = node.metadata["dagster/code_references"].code_references
        files = {Path(r.file_path) for r in references}
        assert PACKAGE / "defs" / f"{node.tags['domain']}.py" in files, node.key
        assert all(f.is_file() for f in files)
        if not node.is_materializable:  # an observed landing: a spec, built by no factory
            continue
        assert PACKAGE / "builders" / "assets.py" in files, node.key
        assert all(f.is_file() for f in files)
        factory = next(r for r in references if r.file_path.endswith("assets.py"))
        line = Path(factory.file_path).read_text().splitlines()[factory.line_number - 1]
        assert line.lstrip().startswith(("@dg.asset", "@dg.multi_asset")), line  # its decorator


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


def test_code_references_link_to_git_only_with_a_known_remote(tmp_path):
    repo = tmp_path / "repo"
    project = repo / "project"
    (project / "defs").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    catalog.git_link.cache_clear()  # read once per process: each case below reads it afresh
    assert catalog.git_link(project) is None  # not a git checkout (an installed wheel's case)
    git(repo, "init", "-q")
    git(
        repo,
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=a",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    catalog.git_link.cache_clear()
    assert catalog.git_link(project) is None  # a checkout without a remote
    git(repo, "remote", "add", "origin", "git@github.com:bank/bank_assets.git")
    catalog.git_link.cache_clear()
    link = catalog.git_link(project)
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert link["git_url"] == "https://github.com/bank/bank_assets"
    assert link["git_branch"] == commit
    # an asset whose code is at project/defs/x.py line 3 links to that line at that commit
    reference = dg.LocalFileCodeReference(file_path=str(project / "defs" / "x.py"), line_number=3)
    spec = dg.AssetSpec(
        "x",
        metadata={
            "dagster/code_references": dg.CodeReferencesMetadataValue(code_references=[reference])
        },
    )

    @dg.multi_asset(specs=[spec])
    def x():
        pass

    (linked,) = dg.link_code_references_to_git([x], **link)
    metadata = linked.specs_by_key[dg.AssetKey("x")].metadata
    (url,) = metadata["dagster/code_references"].code_references
    assert url.url == f"https://github.com/bank/bank_assets/tree/{commit}/project/defs/x.py#L3"
    git(repo, "remote", "set-url", "origin", "https://ci:s3cret@gitlab.com/bank/bank_assets.git")
    catalog.git_link.cache_clear()
    assert catalog.git_link(project)["git_url"] == "https://gitlab.com/bank/bank_assets"
    git(repo, "remote", "set-url", "origin", "https://git.example.org/bank.git")
    catalog.git_link.cache_clear()
    assert catalog.git_link(project) is None  # a host Dagster has no web links for
    catalog.git_link.cache_clear()
