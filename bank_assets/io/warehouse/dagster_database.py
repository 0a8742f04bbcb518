"""Dagster's instance storage on an external PostgreSQL server given by the loader's DSN alone.

With BANK_ASSETS_PG_DSN set and DAGSTER_PG_URL not, the instance goes into database `dagster`
on the same server, as the DSN's role: created there when missing and the role may create
databases. What cannot be reached that way is refused at once, before a run starts or a day is
simulated, with what to set (a separate Dagster role, as docker-compose has, is DAGSTER_PG_URL).
"""

from __future__ import annotations

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict

DAGSTER_DATABASE = "dagster"


class DagsterDatabaseUnavailable(RuntimeError):
    """The derived Dagster database cannot be used; the message says what to set or do."""


def dagster_url_from(dsn: str) -> str:
    """The instance's SQLAlchemy URL (driver psycopg2, which dagster-postgres needs) for database
    `dagster` on `dsn`'s server as `dsn`'s role (URL or key=value form, options kept)."""
    from sqlalchemy.engine import URL

    params = {k: str(v) for k, v in conninfo_to_dict(dsn).items()}
    params.pop("dbname", None)
    user, password = params.pop("user", None), params.pop("password", None)
    host, port = params.get("host"), params.get("port")
    if host and not host.startswith("/"):  # a TCP host: in the URL; a socket directory: a query
        del params["host"]
        params.pop("port", None)
    else:
        host = port = None
    return URL.create(
        "postgresql+psycopg2",
        username=user,
        password=password,
        host=host,
        port=int(port) if port else None,
        database=DAGSTER_DATABASE,
        query=params,
    ).render_as_string(hide_password=False)


def ensure_dagster_database(dsn: str) -> None:
    """Make sure `dsn`'s role can use database `dagster` on its server, creating it (owned by
    the role) when missing; raise DagsterDatabaseUnavailable saying what to do otherwise."""
    role = conninfo_to_dict(dsn).get("user") or "the DSN's role"
    unset = (
        "BANK_ASSETS_PG_DSN is set and DAGSTER_PG_URL is not: Dagster's instance goes into "
        f"database {DAGSTER_DATABASE!r} on that server as {role}"
    )
    set_url = (
        "or set DAGSTER_PG_URL (postgresql+psycopg2://ROLE:PASSWORD@HOST:PORT/DATABASE) to the "
        "database Dagster's instance should use"
    )
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            # (a failed connection has no SQLSTATE to tell a missing database from a refused one)
            row = conn.execute(
                "select has_database_privilege(datname, 'connect') from pg_database "
                "where datname = %s",
                (DAGSTER_DATABASE,),
            ).fetchone()
            if row is None:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(DAGSTER_DATABASE)))
            elif not row[0]:
                raise DagsterDatabaseUnavailable(
                    f"{unset}, which may not connect to it: grant {role} connect on database "
                    f"{DAGSTER_DATABASE}, {set_url}"
                )
    except errors.DuplicateDatabase:  # another process created it meanwhile
        pass
    except errors.InsufficientPrivilege:
        raise DagsterDatabaseUnavailable(
            f"{unset}, but it does not exist and {role} may not create databases: create it "
            f"(create database {DAGSTER_DATABASE} owner {role}), {set_url}"
        ) from None
    except psycopg.OperationalError as e:
        raise DagsterDatabaseUnavailable(f"{unset}, but connecting there failed: {e}") from None
