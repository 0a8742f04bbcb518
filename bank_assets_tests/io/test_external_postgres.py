"""An external PostgreSQL server given by BANK_ASSETS_PG_DSN alone: Dagster's instance goes into
database `dagster` there, as that DSN's role (created when the role may), or the command refuses
at once, before simulating anything, saying what to set. The embedded server stands in for the
external one (its loader role has no CREATEDB, as a locked-down server's would not)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bank_assets.io.warehouse import access, embedded
from bank_assets.settings import ConfigurationError, Settings


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, with no `dagster` database yet; (pgdata, loader DSN)."""
    pgdata = tmp_path_factory.mktemp("external-pg") / "data"
    dsn = embedded.embedded_postgres_dsn(pgdata)
    yield pgdata, dsn
    embedded.stop_embedded_postgres(pgdata)


def superuser(pgdata: Path, dsn: str) -> psycopg.Connection:
    password = json.loads(embedded.secrets_path(pgdata).read_text())[embedded.SUPERUSER]
    su = make_conninfo(dsn, user=embedded.SUPERUSER, password=password, dbname="postgres")
    return psycopg.connect(su, autocommit=True)


def test_a_loader_that_may_not_create_the_database_is_refused_saying_what_to_set(server):
    _, dsn = server
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({"BANK_ASSETS_PG_DSN": dsn}).dagster_url()
    message = str(refused.value)
    assert "create database dagster owner bank_loader" in message
    assert "set DAGSTER_PG_URL" in message
    assert conninfo_to_dict(dsn)["password"] not in message


def test_demo_refuses_before_simulating_anything(server, tmp_path):
    """The command line's check comes first: no landing file is written."""
    _, dsn = server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANK_ASSETS_", "DAGSTER_"))}
    env |= {"BANK_ASSETS_HOME": str(tmp_path / "home"), "BANK_ASSETS_PG_DSN": dsn}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "bank_assets.cli", "demo", "--transactions", "100"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "DAGSTER_PG_URL" in done.stderr and "create database dagster" in done.stderr
    assert "simulating" not in done.stdout
    assert not (tmp_path / "home" / "lake").exists()


def test_a_loader_that_may_create_it_gets_the_instance_there(server, tmp_path):
    """With CREATEDB the role creates `dagster` (once: the next call finds it) and Dagster's
    instance stores its runs there; the warehouse database is untouched."""
    pgdata, dsn = server
    with superuser(pgdata, dsn) as conn:
        conn.execute(f"alter role {access.LOADER} createdb")
    try:
        settings = Settings.from_env({"BANK_ASSETS_PG_DSN": dsn})
        url = settings.dagster_url()
        assert url == settings.dagster_url()
        assert url.startswith("postgresql+psycopg2://bank_loader:") and "/dagster?" in url
        with superuser(pgdata, dsn) as conn:
            owner = conn.execute(
                "select pg_get_userbyid(datdba) from pg_database where datname = 'dagster'"
            ).fetchone()
        assert owner == (access.LOADER,)
        # the project's instance configuration, as prepare_dagster_home writes it
        (tmp_path / "dagster.yaml").write_text(
            (Path(__file__).parents[2] / "dagster.yaml").read_text()
        )
        os.environ["DAGSTER_PG_URL"] = url
        try:

            @dg.asset
            def probe() -> int:
                return 1

            with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
                result = dg.materialize([probe], instance=instance)
                assert instance.get_run_by_id(result.run_id).is_success
        finally:
            del os.environ["DAGSTER_PG_URL"]
        with psycopg.connect(make_conninfo(dsn, dbname="dagster")) as conn:
            assert conn.execute("select count(*) from runs").fetchone() == (1,)
    finally:
        with superuser(pgdata, dsn) as conn:
            conn.execute(f"alter role {access.LOADER} nocreatedb")


def test_a_dagster_database_the_loader_may_not_connect_to_is_refused(pg_data, pg_dsn):
    """The embedded default's `dagster` database belongs to the Dagster role alone."""
    embedded.embedded_dagster_dsn(pg_data)
    with pytest.raises(ConfigurationError, match="may not connect to it: grant bank_loader"):
        Settings.from_env({"BANK_ASSETS_PG_DSN": pg_dsn}).dagster_url()
