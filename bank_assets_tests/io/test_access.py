"""Least privilege on a real embedded PostgreSQL server (no Spark): three roles, masked personal
data for analysts, passwords on the socket, private files, parent directories left alone."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bank_assets.analyst import queries
from bank_assets.io.warehouse import access, embedded
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets_tests.builders import private_modes
from bank_assets_tests.conftest import DAY

IBAN = "FR7630006000011234567890189"


@pytest.fixture()
def warehouse(pg_dsn) -> Warehouse:
    """The warehouse's DDL applied by the loader, one client and one account with their PII."""
    wh = Warehouse(pg_dsn)
    wh.apply_ddl()
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "insert into dw.dim_clients (client_key, client_id, first_name, last_name, email, "
            "birth_date, address_line, postal_code, city, segment, row_hash, valid_from) "
            "values (1, 'C1', 'Camille', 'Roux', 'camille.roux@example.org', '1984-06-02', "
            "'12 rue des Lilas', '75011', 'Paris', 'RETAIL', 'h', '2026-01-01')"
        )
        conn.execute(
            "insert into dw.dim_accounts (account_key, account_id, iban, client_id, row_hash, "
            "valid_from) values (1, 'A1', %s, 'C1', 'h', '2026-01-01')",
            (IBAN,),
        )
    return wh


def refused(dsn: str, statement: str) -> bool:
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(statement)
        except errors.InsufficientPrivilege:
            return True
    return False


def test_analyst_reads_masked_data_only_and_writes_nothing(warehouse, pg_dsn, analyst_dsn):
    assert conninfo_to_dict(analyst_dsn)["user"] == access.ANALYST
    with psycopg.connect(analyst_dsn) as conn:
        client = conn.execute(
            "select first_name, last_name, email, birth_date, address_line, city "
            "from analyst.dim_clients where client_key = 1"
        ).fetchone()
        friendly = conn.execute("select first_name, last_name from analyst.v_clients_current")
        iban = conn.execute("select iban from analyst.v_accounts_current").fetchone()[0]
    assert client == ("C.", "R.", "c***@example.org", date(1984, 1, 1), "***", "Paris")
    assert friendly.fetchall() == [("C.", "R.")]
    assert iban == "FR76" + "*" * (len(IBAN) - 8) + "0189"
    # the loader sees them whole
    with psycopg.connect(pg_dsn) as conn:
        names = conn.execute("select first_name, last_name from dw.dim_clients where client_key=1")
        assert names.fetchone() == ("Camille", "Roux")
        ibans = conn.execute("select iban from dw.dim_accounts where account_key = 1")
        assert ibans.fetchone() == (IBAN,)
    for statement in (
        "select iban from dw.dim_accounts",
        "select first_name, last_name from dw.dim_clients",
        "select count(*) from dw.fact_transactions",
        "select * from quarantine.transactions",
        "select * from dq.results",
        "select * from staging.x",
        "insert into analyst.dim_clients (client_key, client_id, row_hash, valid_from) "
        "values (2, 'C2', 'h', '2026-01-01')",
        "update analyst.dim_accounts set status = 'CLOSED'",
        "delete from analyst.dim_clients",
        "create table analyst.mine (x int)",
        "create table public.mine (x int)",
        "create temporary table mine (x int)",
        "create schema mine",
        "create view analyst.v_mine as select 1",
    ):
        assert refused(analyst_dsn, statement), statement
    # no column of the analyst schema holds what the masks hide
    with psycopg.connect(analyst_dsn) as conn:
        text = str(conn.execute("select * from analyst.dim_clients").fetchall())
        text += str(conn.execute("select * from analyst.dim_accounts").fetchall())
        assert "Camille" not in text and "Roux" not in text and IBAN not in text
        assert "camille.roux" not in text and "Lilas" not in text
    # and every analyst question runs as the analyst
    for name in queries.catalogue():
        queries.run(analyst_dsn, name, DAY)


def test_dagster_role_reaches_its_database_only(pg_data, pg_dsn, warehouse):
    dagster = embedded.embedded_dagster_dsn(pg_data)
    assert conninfo_to_dict(dagster)["user"] == access.DAGSTER
    with psycopg.connect(dagster) as conn:  # instance storage: it creates its tables
        conn.execute("create table if not exists runs_probe (x int)")
    warehouse_db = conninfo_to_dict(pg_dsn)["dbname"]
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(make_conninfo(dagster, dbname=warehouse_db))
    # the analyst cannot use Dagster's database, the loader neither
    analyst = embedded.embedded_analyst_dsn(pg_data, warehouse_db)
    for dsn in (analyst, pg_dsn):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(make_conninfo(dsn, dbname="dagster"))


def test_roles_hold_no_cluster_privilege(pg_data, pg_dsn):
    with psycopg.connect(pg_dsn) as conn:
        roles = conn.execute(
            "select rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls from pg_roles "
            "where rolname = any(%s) order by 1",
            ([access.LOADER, access.DAGSTER, access.ANALYST],),
        ).fetchall()
    assert [r[0] for r in roles] == sorted([access.LOADER, access.DAGSTER, access.ANALYST])
    assert all(not any(r[1:]) for r in roles)


def test_the_socket_requires_a_password(pg_data, pg_dsn):
    params = conninfo_to_dict(pg_dsn)
    without = make_conninfo(pg_dsn, password="")
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(without)
    for user in ("postgres", access.LOADER, access.ANALYST):
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(make_conninfo(pg_dsn, user=user, password="wrong"))
    hba = (pg_data / "pg_hba.conf").read_text()
    lines = [line for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    assert lines == ["local all all scram-sha-256"]
    assert params["host"] == str(pg_data)  # the socket is in the private data directory


def test_password_file_and_socket_directory_are_private(pg_data, pg_dsn):
    secrets = embedded.secrets_path(pg_data)
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert secrets.stat().st_uid == os.geteuid()
    socket_dir = Path(conninfo_to_dict(pg_dsn)["host"])
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((socket_dir / embedded.SOCKET_NAME).stat().st_mode) == 0o600
    assert private_modes(pg_data.parent) == []


def test_a_long_state_path_gets_a_private_short_socket_directory(tmp_path):
    home = tmp_path / ("h" * (embedded.SUN_PATH_MAX - len(str(tmp_path))))
    pgdata = home / "postgres"
    socket_dir = None
    try:
        dsn = embedded.embedded_postgres_dsn(pgdata)
        socket_dir = Path(conninfo_to_dict(dsn)["host"])
        assert socket_dir != pgdata and len(str(socket_dir / embedded.SOCKET_NAME)) < 60
        st = socket_dir.stat()
        assert stat.S_IMODE(st.st_mode) == 0o700 and not st.st_mode & stat.S_ISVTX
        with psycopg.connect(dsn) as conn:
            assert conn.execute("select current_user").fetchone() == (access.LOADER,)
        embedded.stop_embedded_postgres(pgdata)
        # someone made it world-writable (or made it first): refused, never used
        socket_dir.chmod(0o777)
        with pytest.raises(embedded.EmbeddedPostgresError, match="not a private directory"):
            embedded.embedded_postgres_dsn(pgdata)
        assert not (socket_dir / embedded.SOCKET_NAME).exists()
    finally:
        embedded.stop_embedded_postgres(pgdata)
        if socket_dir is not None:  # the next run of the same path would be refused
            shutil.rmtree(socket_dir, ignore_errors=True)


def test_a_cluster_of_the_former_trusting_bootstrap_is_refused(tmp_path):
    pgdata = tmp_path / "postgres"
    pgdata.mkdir(mode=0o700)
    user = embedded._server_user()
    if user:
        os.chown(pgdata, user.pw_uid, user.pw_gid)
    embedded._run("initdb", ["-U", "postgres", "--auth=trust", "-E", "utf8"], pgdata)
    with pytest.raises(embedded.EmbeddedPostgresError, match="without a password"):
        embedded.embedded_postgres_dsn(pgdata)
    assert embedded._running_pid(pgdata) is None


def test_starting_the_server_leaves_private_parents_alone(tmp_path):
    """As root the server runs as an unprivileged user: the private parent keeps its mode,
    and no ACL is added to it."""
    parent = tmp_path / "private"
    parent.mkdir(mode=0o700)
    above = stat.S_IMODE(tmp_path.stat().st_mode)
    home = parent / "home"
    pgdata = home / "postgres"
    try:
        # in a separate process, as a user would (bank-assets status starts the server)
        env = {**os.environ, "BANK_ASSETS_HOME": str(home), "PYTHONPATH": os.getcwd()}
        env.pop("BANK_ASSETS_PG_DSN", None)
        out = subprocess.run(
            [sys.executable, "-m", "bank_assets.cli", "status"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        assert embedded._running_pid(pgdata) is not None
        assert stat.S_IMODE(parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(tmp_path.stat().st_mode) == above
        assert "system.posix_acl_access" not in os.listxattr(parent)
        assert private_modes(home) == []
        if os.geteuid() == 0:  # the server is not root, and owns its data directory only
            assert pgdata.stat().st_uid == embedded._server_user().pw_uid
            assert home.stat().st_uid == 0
    finally:
        embedded.stop_embedded_postgres(pgdata)


def test_a_password_file_readable_by_others_is_refused(tmp_path):
    pgdata = tmp_path / "postgres"
    try:
        embedded.embedded_postgres_dsn(pgdata)
        embedded.stop_embedded_postgres(pgdata)
        embedded._ready.clear()
        embedded.secrets_path(pgdata).chmod(0o644)
        with pytest.raises(embedded.EmbeddedPostgresError, match="chmod 600"):
            embedded.embedded_postgres_dsn(pgdata)
    finally:
        embedded.stop_embedded_postgres(pgdata)
