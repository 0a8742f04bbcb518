"""Configuration: the one place that reads the environment.

Each component connects to PostgreSQL as its own role (bank_assets/io/warehouse/access.py): the
pipeline as the loader, Dagster's instance as the Dagster role, analysts' commands as the analyst.

Nothing here reads the environment at import time: `Settings.from_env()` runs when a resource
is first used (or when the CLI starts), so loading the definitions never needs a variable, a
server or a JVM. The one setting the definitions themselves take is `first_day()` (the first
daily partition), read when the partitions are defined. Every environment (embedded default,
docker-compose, a cluster) uses the same resource keys: `spark`, `lake`, `warehouse`.

Variables (all optional; unset means the embedded default):

  BANK_ASSETS_HOME           state directory (default: <project>/.bank_assets in a checkout,
                             ~/.bank_assets for an installed package)
  BANK_ASSETS_LAKE_URL       s3://bucket/prefix or a local directory (default: $HOME/lake)
  BANK_ASSETS_S3_ENDPOINT    S3 endpoint URL, e.g. http://minio:9000 (MinIO); unset = AWS
  BANK_ASSETS_S3_ACCESS_KEY  S3 access key (secret: never put it in code or config files)
  BANK_ASSETS_S3_SECRET_KEY  S3 secret key
  BANK_ASSETS_S3_REGION      S3 region (default us-east-1)
  BANK_ASSETS_PG_DSN         the loader's PostgreSQL DSN (role bank_loader: DDL and loads; the
                             pipeline); unset = embedded PostgreSQL under $HOME/postgres, with
                             generated passwords in $HOME/postgres.secrets.json (0600)
  BANK_ASSETS_ANALYST_DSN    the read-only analyst's DSN (role bank_analyst: `bank-assets query`
                             and `dq`, masked personal data); needed when BANK_ASSETS_PG_DSN is set
  DAGSTER_PG_URL             Dagster's instance storage (role bank_dagster, database dagster;
                             postgresql+psycopg2://...); when BANK_ASSETS_PG_DSN is set and
                             this is not, database `dagster` on that server as that DSN's role
  BANK_ASSETS_SPARK_MASTER   local[*] (default), spark://host:7077, local-cluster[...] or
                             sc://host:15002 (Spark Connect)
  BANK_ASSETS_SPARK_DRIVER_MEMORY  driver memory for local Spark (default 2g)
  BANK_ASSETS_SPARK_SHUFFLE_PARTITIONS  partitions of a shuffle (spark.sql.shuffle.partitions):
                             8 on local[*] (measured on 2 cores), 64 on a cluster, where
                             adaptive execution merges the small ones
  BANK_ASSETS_SPARK_EXECUTOR_MEMORY  heap of each executor (spark.executor.memory) on a cluster:
                             default 4g on spark://, k8s:// and yarn, M MiB on
                             local-cluster[N,C,M]; unused by local[*] and sc:// (the server's)
  BANK_ASSETS_SPARK_EXECUTOR_CORES  cores (tasks at once) of each executor (spark.executor.cores):
                             default 2 on a cluster, C on local-cluster[N,C,M]
  BANK_ASSETS_JVM_CACHE      where the Spark driver's class archive is kept (default:
                             $XDG_CACHE_HOME/bank_assets, else ~/.cache/bank_assets); outside the
                             state directory, so a fresh home (each bench) still starts Spark fast
  BANK_ASSETS_COPY_CONNECTIONS  the most PostgreSQL connections one warehouse load COPYs over
                             at once (default 4, COPY_CONNECTIONS); keep loads x this well under
                             the server's max_connections
  BANK_ASSETS_LANDING_SPLIT_MB  landing files larger than this many MiB are parsed by several
                             Spark tasks, one per split of this size (default 64, SPLIT_BYTES)
  BANK_ASSETS_ALERT_WEBHOOK  URL that receives a JSON message per alert (optional)
  BANK_ASSETS_FIRST_DAY      the first business day, YYYY-MM-DD: the daily partitions start there
                             (default 2026-11-01, FIRST_DAY); every process of a deployment
                             (webserver, daemon, runs) must see the same value
  BANK_ASSETS_SENSOR_INTERVAL_SECONDS  how often the daemon evaluates the landing sensor and the
                             failed-run alerts (default 30; the tests' deployments use 5, the
                             daemon's floor)
  BANK_ASSETS_BACKFILL_DAEMON  set by `bank-assets backfill` on the `dagster-daemon` it starts
                             when none runs: the landing sensor then skips (that daemon runs the
                             backfill, the queue, run monitoring and the failure alerts only)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bank_assets.io.lake import LakeConfig
from bank_assets.io.landing import SPLIT_BYTES
from bank_assets.io.warehouse.loader import COPY_CONNECTIONS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# A source checkout has the project files beside the package; an installed package has none.
CHECKOUT = (PROJECT_ROOT / "pyproject.toml").exists()
# A checkout keeps its state inside (.bank_assets); an installed package in the user's home.
DEFAULT_HOME = PROJECT_ROOT / ".bank_assets" if CHECKOUT else Path.home() / ".bank_assets"


# The first daily partition unless BANK_ASSETS_FIRST_DAY says otherwise: close to the simulated
# days (the demo lands 2026-11-20), so the asset graph does not count years of empty partitions.
FIRST_DAY = date(2026, 11, 1)


# The variables whose values are secrets: where one is set, the resource that needs it takes it
# as a dg.EnvVar (bank_assets/defs/resources.py), so Dagster shows its name, never its value.
SECRET_VARIABLES = (
    "BANK_ASSETS_PG_DSN",
    "BANK_ASSETS_S3_ACCESS_KEY",
    "BANK_ASSETS_S3_SECRET_KEY",
    "BANK_ASSETS_ALERT_WEBHOOK",
)


# Spark parallelism where no variable sets it. On local[*] the driver is the only executor: 8
# shuffle partitions measured best on 2 cores (4x the cores, small tasks to balance skew). A
# cluster has more cores: 64, adaptive execution (on, io/spark/session.py) merging the small
# ones, and executors of 2 cores and 4 GiB (2 GiB a task): docker-compose's worker holds one.
LOCAL_SHUFFLE_PARTITIONS = 8
CLUSTER_SHUFFLE_PARTITIONS = 64
CLUSTER_EXECUTOR_MEMORY = "4g"
CLUSTER_EXECUTOR_CORES = 2
# local-cluster[workers, cores per worker, MiB per worker]: Spark's test cluster on one machine
LOCAL_CLUSTER = re.compile(r"local-cluster\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]")
MEMORY = re.compile(r"\d+[kmgtp]?b?", re.IGNORECASE)  # Spark's sizes: 512m, 4g, 1024


class ConfigurationError(ValueError):
    """The environment's configuration is incomplete or inconsistent; the message says how."""


def first_day(env: Mapping[str, str] | None = None) -> date:
    """The first business day (the first daily partition): BANK_ASSETS_FIRST_DAY or FIRST_DAY."""
    env = os.environ if env is None else env
    value = env.get("BANK_ASSETS_FIRST_DAY")
    if not value:
        return FIRST_DAY
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(
            f"BANK_ASSETS_FIRST_DAY={value!r} is not a day: use YYYY-MM-DD, e.g. 2026-11-01"
        ) from None


def _positive(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name)
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"{name}={value!r} is not a positive whole number, e.g. 8")
    return int(value)


def _memory(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value and not MEMORY.fullmatch(value):
        raise ConfigurationError(f"{name}={value!r} is not a size as Spark takes it, e.g. 4g, 512m")
    return value or None


@dataclass(frozen=True)
class Settings:
    """Configuration read from the environment, with the embedded defaults filled in."""

    home: Path
    lake_url: str
    s3_endpoint: str | None
    s3_access_key: str | None
    s3_secret_key: str | None
    s3_region: str
    pg_dsn: str | None
    analyst_pg_dsn: str | None
    dagster_pg_url: str | None
    spark_master: str
    spark_driver_memory: str
    # None: the default for the master (spark_properties)
    spark_shuffle_partitions: int | None
    spark_executor_memory: str | None
    spark_executor_cores: int | None
    jvm_cache: Path
    alert_webhook: str | None
    copy_connections: int
    landing_split_bytes: int
    # A read-only command (status, query, dq, ...): an embedded server that the user stopped
    # (`bank-assets stop`) stays stopped; the DSN methods raise EmbeddedPostgresStopped instead.
    keep_stopped: bool = False
    # the daemon `bank-assets backfill` starts for its backfill: automation stays off
    backfill_daemon: bool = False
    # the landing sensor's and the failed-run alerts' minimum interval, read when they are defined
    sensor_interval_seconds: int = 30

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, keep_stopped: bool = False) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("BANK_ASSETS_HOME") or DEFAULT_HOME).resolve()
        return cls(
            home=home,
            lake_url=env.get("BANK_ASSETS_LAKE_URL") or str(home / "lake"),
            s3_endpoint=env.get("BANK_ASSETS_S3_ENDPOINT") or None,
            s3_access_key=env.get("BANK_ASSETS_S3_ACCESS_KEY") or None,
            s3_secret_key=env.get("BANK_ASSETS_S3_SECRET_KEY") or None,
            s3_region=env.get("BANK_ASSETS_S3_REGION") or "us-east-1",
            pg_dsn=env.get("BANK_ASSETS_PG_DSN") or None,
            analyst_pg_dsn=env.get("BANK_ASSETS_ANALYST_DSN") or None,
            dagster_pg_url=env.get("DAGSTER_PG_URL") or None,
            spark_master=env.get("BANK_ASSETS_SPARK_MASTER") or "local[*]",
            spark_driver_memory=_memory(env, "BANK_ASSETS_SPARK_DRIVER_MEMORY") or "2g",
            spark_shuffle_partitions=_positive(env, "BANK_ASSETS_SPARK_SHUFFLE_PARTITIONS"),
            spark_executor_memory=_memory(env, "BANK_ASSETS_SPARK_EXECUTOR_MEMORY"),
            spark_executor_cores=_positive(env, "BANK_ASSETS_SPARK_EXECUTOR_CORES"),
            jvm_cache=Path(
                env.get("BANK_ASSETS_JVM_CACHE")
                or Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bank_assets"
            ),
            alert_webhook=env.get("BANK_ASSETS_ALERT_WEBHOOK") or None,
            copy_connections=_positive(env, "BANK_ASSETS_COPY_CONNECTIONS") or COPY_CONNECTIONS,
            landing_split_bytes=(
                _positive(env, "BANK_ASSETS_LANDING_SPLIT_MB") or SPLIT_BYTES >> 20
            )
            * 2**20,
            keep_stopped=keep_stopped,
            backfill_daemon=bool(env.get("BANK_ASSETS_BACKFILL_DAEMON")),
            sensor_interval_seconds=_positive(env, "BANK_ASSETS_SENSOR_INTERVAL_SECONDS") or 30,
        )

    @staticmethod
    def is_set(name: str, env: Mapping[str, str] | None = None) -> bool:
        """Whether the environment gives `name` a value (empty counts as unset, as in from_env)."""
        return bool((os.environ if env is None else env).get(name))

    @property
    def lake_config(self) -> LakeConfig:
        return LakeConfig(
            url=self.lake_url,
            s3_endpoint=self.s3_endpoint,
            s3_access_key=self.s3_access_key,
            s3_secret_key=self.s3_secret_key,
            s3_region=self.s3_region,
        )

    def spark_properties(self, master: str | None = None) -> dict[str, str]:
        """The Spark properties these settings give: master, driver memory and parallelism,
        with the defaults for the kind of master (`master`, e.g. a resource's, over the
        settings'). local[*] runs the tasks in the driver (executor settings mean nothing
        there); a Spark Connect server has its executors already (only the shuffle partitions,
        a session's option, reach it); local-cluster[N,C,M] executors fit its workers; any
        other master (spark://, k8s://, yarn) is a cluster."""
        master = master or self.spark_master
        properties = {"spark.master": master, "spark.driver.memory": self.spark_driver_memory}
        local_cluster = LOCAL_CLUSTER.fullmatch(master)
        cluster = not master.startswith(("local", "sc://")) or local_cluster is not None
        properties["spark.sql.shuffle.partitions"] = str(
            self.spark_shuffle_partitions
            or (CLUSTER_SHUFFLE_PARTITIONS if cluster else LOCAL_SHUFFLE_PARTITIONS)
        )
        if cluster:
            cores, memory = CLUSTER_EXECUTOR_CORES, CLUSTER_EXECUTOR_MEMORY
            if local_cluster:
                cores, memory = int(local_cluster[2]), f"{local_cluster[3]}m"
            properties["spark.executor.memory"] = self.spark_executor_memory or memory
            properties["spark.executor.cores"] = str(self.spark_executor_cores or cores)
        return properties

    def dsn(self) -> str:
        """The loader's PostgreSQL DSN; starts the embedded server when none is configured."""
        if self.pg_dsn:
            return self.pg_dsn
        from bank_assets.io.warehouse.embedded import embedded_postgres_dsn

        return embedded_postgres_dsn(self.home / "postgres", restart=not self.keep_stopped)

    def analyst_dsn(self) -> str:
        """The read-only analyst's DSN (sees personal data masked)."""
        if self.analyst_pg_dsn:
            return self.analyst_pg_dsn
        if self.pg_dsn:
            raise ConfigurationError(
                "BANK_ASSETS_PG_DSN is set but BANK_ASSETS_ANALYST_DSN is not: analyst commands "
                "connect as the read-only role bank_analyst; set BANK_ASSETS_ANALYST_DSN too"
            )
        from bank_assets.io.warehouse.embedded import embedded_analyst_dsn

        return embedded_analyst_dsn(self.home / "postgres", restart=not self.keep_stopped)

    def dagster_url(self) -> str:
        """Dagster's instance storage URL (SQLAlchemy form, driver psycopg2)."""
        if self.dagster_pg_url:
            return self.dagster_pg_url
        if self.pg_dsn:  # database `dagster` on the loader's server, as the loader
            from bank_assets.io.warehouse.dagster_database import (
                DagsterDatabaseUnavailable,
                dagster_url_from,
                ensure_dagster_database,
            )

            try:
                ensure_dagster_database(self.pg_dsn)
            except DagsterDatabaseUnavailable as e:
                raise ConfigurationError(str(e)) from None
            return dagster_url_from(self.pg_dsn)
        from bank_assets.io.warehouse.embedded import embedded_dagster_dsn

        # dagster-postgres needs psycopg2 (SQLAlchemy 2.1 would pick psycopg 3, failing on NOTIFY)
        dsn = embedded_dagster_dsn(self.home / "postgres", restart=not self.keep_stopped)
        return dsn.replace("postgresql://", "postgresql+psycopg2://", 1)

    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or self.home / "dagster")
