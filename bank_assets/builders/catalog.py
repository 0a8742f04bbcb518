"""What the asset catalog says about each asset, at definition time: where its table is
(`dagster/table_name`, `dagster/uri`), its columns with type and description
(`dagster/column_schema`), the derived columns' lineage (`dagster/column_lineage`), who owns it
and its tags (`layer`, `domain`, `pii`), and where its code is (code references).

Nothing here starts Spark or PostgreSQL: the types come from the declarations the pipeline runs
on (the source contract for raw, the staging kinds for staged, the DDL in sql/ for what is
loaded into PostgreSQL: curated, quarantine and warehouse tables), the descriptions from the one
registry `model/columns.py` that also writes the data dictionary and PostgreSQL's comments.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg

from bank_assets.io.warehouse.ddl import Column, declared_columns
from bank_assets.model.columns import COLUMNS, PERSONAL
from bank_assets.model.facts import DERIVED
from bank_assets.model.sources import SOURCES, SourceTable
from bank_assets.model.staging import StagingSpec, staged_types
from bank_assets.model.tables import TABLES
from bank_assets.settings import CHECKOUT, PROJECT_ROOT, Settings

# The warehouse's database, as `dagster/table_name` starts: database.schema.table (embedded
# server and docker-compose both name it bank).
DATABASE = "bank"
# The keys of Dagster's UriMetadataSet and TableMetadataSet (not exported by dagster 1.13).
URI, TABLE_NAME = "dagster/uri", "dagster/table_name"
SCHEMA, LINEAGE = "dagster/column_schema", "dagster/column_lineage"

# Domain (a module of bank_assets/defs/) -> the team that owns its assets, and answers for them.
OWNERS = {
    "transactions": "team:payments",
    "merchants": "team:payments",
    "fraud": "team:risk",
    "loans": "team:lending",
    "clients": "team:customer",
    "accounts": "team:customer",
    "satisfaction": "team:customer",
    "products": "team:finance",
    "currencies": "team:finance",
    "revenue": "team:finance",
    "calendar": "team:data-platform",
    "reference": "team:data-platform",
}


def table_name(qualified: str) -> str:
    return f"{DATABASE}.{qualified}"


def lake_uri(relative: str) -> str:
    """The lake URI of a table's folder: s3://bucket/prefix/... or file:///... for a local lake.
    From the settings of the process that loads the definitions (reads no file, starts nothing)."""
    url = Settings.from_env().lake_url.rstrip("/")
    return f"{url}/{relative}" if "://" in url else Path(url, relative).as_uri()


def column_schema(columns: Iterable[tuple[str, str] | Column]) -> dg.TableSchema:
    """(name, type) or a DDL column -> the Dagster column schema, each column described by the
    registry (and, from the DDL, whether it may be empty)."""
    out = []
    for c in columns:
        name, kind = (c.name, c.type) if isinstance(c, Column) else c
        nullable = c.nullable if isinstance(c, Column) else True
        constraints = dg.TableColumnConstraints(nullable=nullable)
        out.append(dg.TableColumn(name, kind, COLUMNS[name], constraints=constraints))
    return dg.TableSchema(columns=out)


def _tags(layer: str, columns: Iterable[str]) -> dict[str, str]:
    return {"layer": layer, "pii": str(bool(PERSONAL.intersection(columns))).lower()}


def _warehouse_columns(qualified: str, generated: bool = True) -> list[Column]:
    return [c for c in declared_columns()[qualified] if generated or not c.generated]


def _lineage(deps: dict[str, Sequence[tuple[str, str, str]]]) -> dg.TableColumnLineage:
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep([zone, table], name) for zone, table, name in sources]
            for column, sources in deps.items()
        }
    )


def landing(source: SourceTable) -> dict:
    """landing/<name>: the files as the source system delivers them, every column as landed."""
    return {
        "metadata": {
            URI: lake_uri(f"landing/{source.name}"),
            SCHEMA: column_schema((c, "string") for c in source.columns),
        },
        "tags": _tags("landing", source.columns),
    }


def raw(source: SourceTable) -> dict:
    """Metadata and tags of raw/<name>: every landed column as text, plus the reader's lineage."""
    columns = [(f.name, f.dataType.simpleString()) for f in source.raw_schema().fields]
    return {
        "metadata": {
            URI: lake_uri(f"raw/{source.name}"),
            SCHEMA: column_schema(columns),
        },
        "tags": _tags("raw", source.columns),
    }


def staged(spec: StagingSpec) -> dict:
    columns = list(staged_types(spec).items())
    return {
        "metadata": {
            URI: lake_uri(f"staged/{spec.source.name}"),
            SCHEMA: column_schema(columns),
        },
        "tags": _tags("staged", spec.source.columns),
    }


def quarantine(name: str) -> dict:
    """quarantine/<name>: shaped like its warehouse table, holding the landed rows as payload
    (so it holds whatever personal data the source lands)."""
    return {
        "metadata": {
            URI: lake_uri(f"quarantine/{name}"),
            SCHEMA: column_schema(_warehouse_columns(f"quarantine.{name}")),
        },
        "tags": _tags("quarantine", SOURCES[name].columns),
    }


def curated(name: str) -> dict:
    """curated/<name>: the columns its warehouse table dw.<name> is loaded with (the COPY takes
    the Parquet's columns by name, so the DDL is its contract), as the DDL types them: not those
    PostgreSQL generates, nor those an SCD2 load chains."""
    chained = TABLES[f"dw.{name}"].chained
    columns = [c for c in _warehouse_columns(f"dw.{name}", False) if c.name not in chained]
    metadata = {
        URI: lake_uri(f"curated/{name}"),
        SCHEMA: column_schema(columns),
    }
    if name in DERIVED:
        metadata[LINEAGE] = _lineage(DERIVED[name])
    return {"metadata": metadata, "tags": _tags("curated", (c.name for c in columns))}


def warehouse(qualified: str, zone: str | None = None, name: str | None = None) -> dict:
    """warehouse/<...>: the PostgreSQL table; loaded from `zone`/`name` of the lake, column for
    column (the lineage of a fact's columns is then its curated table's)."""
    columns = _warehouse_columns(qualified)
    metadata = {TABLE_NAME: table_name(qualified), SCHEMA: column_schema(columns)}
    if zone == "curated" and name in DERIVED:
        loaded = [c.name for c in _warehouse_columns(qualified, generated=False)]  # facts
        metadata[LINEAGE] = _lineage({c: [(zone, name, c)] for c in loaded})
    held = SOURCES[qualified.split(".")[1]].columns if zone == "quarantine" else ()
    return {"metadata": metadata, "tags": _tags("warehouse", [*(c.name for c in columns), *held])}


# ---- domains: owners, the domain tag and code references, per module of defs/ --------------


def in_domain(
    module: str, assets: Sequence[dg.AssetsDefinition | dg.AssetSpec]
) -> list[dg.AssetsDefinition | dg.AssetSpec]:
    """The assets a module of bank_assets/defs/ declares (`module` is its __name__; its name is
    the domain), owned by the domain's team, tagged with the domain, and referring to their
    code: the module that declares them and the factory that builds them (linked to the git
    remote's web page when the checkout has one)."""
    domain = module.rsplit(".", 1)[-1]
    declared_in = dg.LocalFileCodeReference(
        file_path=str(Path(sys.modules[module].__file__).resolve()),
        label=f"declared in bank_assets/defs/{domain}.py",
    )

    def owned(spec: dg.AssetSpec) -> dg.AssetSpec:
        references = dg.CodeReferencesMetadataValue(code_references=[declared_in])
        return spec.replace_attributes(owners=[OWNERS[domain]]).merge_attributes(
            tags={"domain": domain},
            metadata={"dagster/code_references": references},
        )

    located = dg.with_source_code_references(
        [owned(a) if isinstance(a, dg.AssetSpec) else a.map_asset_specs(owned) for a in assets]
    )
    link = git_link(PROJECT_ROOT) if CHECKOUT else None
    return list(dg.link_code_references_to_git(located, **link) if link else located)


@functools.cache
def git_link(root: Path) -> dict | None:
    """Where `root`'s files are on the web (the arguments of dg.link_code_references_to_git): the
    `origin` remote (else the first remote) at the checked-out commit. None without git or a
    remote, or for a host Dagster has no links for (only GitHub and GitLab): the references then
    stay local file paths."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        remotes = git("remote").split()
        if not remotes:
            return None
        url = git("remote", "get-url", "origin" if "origin" in remotes else remotes[0])
        commit, top = git("rev-parse", "HEAD"), Path(git("rev-parse", "--show-toplevel"))
    except (OSError, subprocess.SubprocessError):
        return None
    url = _web_url(url)
    if not any(host in url for host in ("github", "gitlab")):
        return None
    anchor = root / "pyproject.toml"
    return {
        "git_url": url,
        "git_branch": commit,
        "file_path_mapping": dg.AnchorBasedFilePathMapping(
            local_file_anchor=anchor,
            file_anchor_path_in_repository=str(anchor.resolve().relative_to(top.resolve())),
        ),
    }


def _web_url(remote: str) -> str:
    """git@host:org/repo.git or https://[user:token@]host/org/repo.git -> https://host/org/repo
    (never a credential of the remote's URL in a link the UI shows)."""
    if remote.startswith("git@"):
        host, path = remote.removeprefix("git@").split(":", 1)
        remote = f"https://{host}/{path}"
    parsed = urlsplit(remote)
    remote = urlunsplit(("https", parsed.hostname or "", parsed.path, "", ""))
    return remote.removesuffix("/").removesuffix(".git")
