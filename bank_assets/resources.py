"""Dagster resources: Spark, lake, warehouse and alerts, configured from `bank_assets.settings`.

Each resource builds its client on first use, so loading the definitions never needs a
variable, a server or a JVM. Every environment (embedded default, docker-compose, a cluster)
uses the same resource keys: `spark`, `lake`, `warehouse`, `alerts`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from dagster_spark.utils import flatten_dict
from pydantic import Field, PrivateAttr

from bank_assets.io.lake import Lake
from bank_assets.io.warehouse.day_locks import hold_days
from bank_assets.io.warehouse.loader import Warehouse
from bank_assets.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The run tags that say which days a run covers (dagster._core.storage.tags).
PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def run_days(tags: Mapping[str, str]) -> list[date]:
    """The days a run covers, from its tags: one partition, or a range (a single-run backfill)."""
    if key := tags.get(PARTITION_TAG):
        return [date.fromisoformat(key)]
    start, end = tags.get(RANGE_TAGS[0]), tags.get(RANGE_TAGS[1])
    if not (start and end):
        return []
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class SparkResource(LazyPySparkResource):
    """dagster-pyspark's lazy session, as the project runs it: created on first use, so
    definitions load without a JVM, with the project's settings, JVM options, class archive and
    data sources (bank_assets.io.spark.session).

    `spark_config` is dagster-pyspark's: Spark properties (spark.master, spark.driver.memory, ...;
    spark.master sc://host:15002 for Spark Connect). The master, the driver's memory and the
    parallelism (shuffle partitions, executor memory and cores) default to the settings'
    (BANK_ASSETS_SPARK_*, with defaults for the kind of master); a key given here wins. Any other
    property of a cluster: here, or Spark's own spark-defaults.conf (SPARK_CONF_DIR).
    """

    spark_config: dict[str, Any] = Field(
        default_factory=dict,
        description="Spark properties over the project's defaults, e.g. "
        '{"spark.master": "spark://host:7077", "spark.driver.memory": "8g"}',
    )

    _starting: Future | None = PrivateAttr(default=None)
    _remote: bool | None = PrivateAttr(default=None)

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False  # the project's subclass, not dagster-pyspark's resource

    def properties(self, settings: Settings) -> dict[str, Any]:
        """spark_config (flat keys, or nested as dagster-pyspark also takes them) over the Spark
        properties of `settings` for its master."""
        given = dict(flatten_dict(self.spark_config))
        return settings.spark_properties(given.get("spark.master")) | given

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run whose steps need Spark starts the session now, in the background: the JVM
        starts (some 7 s of a run) while the run does what needs no Spark (its day locks and
        DDL, the reference dimensions); the first step that needs the session waits for it."""
        starting: Future = Future()

        def start() -> None:
            try:
                self._create_session()
                starting.set_result(None)
            except BaseException as error:  # raised in the first step that needs the session
                starting.set_exception(error)

        self._starting = starting
        threading.Thread(target=start, name="spark-session-start", daemon=True).start()

    def _init_session(self) -> None:
        if self._starting is not None:  # being started in the background: wait for it
            starting, self._starting = self._starting, None
            starting.result()
            if self._remote is False:
                # Spark looks Python data sources up in the calling thread's active session
                # (io/spark/session.py), and the session was made active in the starting thread
                spark = self._spark_session
                spark._jvm.SparkSession.setActiveSession(spark._jsparkSession)
        if self._spark_session is None:
            self._create_session()

    def _create_session(self) -> None:
        from bank_assets.io.spark.session import get_session

        settings = Settings.from_env()
        properties = self.properties(settings)
        self._remote = str(properties.get("spark.master", "")).startswith("sc://")
        self._spark_session = get_session(properties, class_cache=settings.jvm_cache)

    @property
    def session(self) -> SparkSession:
        return self.spark_session


class LakeResource(dg.ConfigurableResource):
    """The lake: S3/MinIO or a local directory. `url` overrides BANK_ASSETS_LAKE_URL, the keys
    BANK_ASSETS_S3_ACCESS_KEY and BANK_ASSETS_S3_SECRET_KEY."""

    url: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    _lake = PrivateAttr(default=None)

    @property
    def lake(self) -> Lake:
        if self._lake is None:
            config = Settings.from_env().lake_config
            given = {
                "url": self.url,
                "s3_access_key": self.s3_access_key,
                "s3_secret_key": self.s3_secret_key,
            }
            config = dataclasses.replace(config, **{k: v for k, v in given.items() if v})
            self._lake = Lake(config)
        return self._lake

    @property
    def landing_split_bytes(self) -> int:
        return Settings.from_env().landing_split_bytes


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse, as the loader role. `dsn` overrides BANK_ASSETS_PG_DSN.

    In a run of one or more days it holds those days' locks for the whole run (see
    io/warehouse/day_locks.py): every asset takes this resource, and the in-process executor
    initializes it once, before the first step, so a run that another run's day lock refuses
    writes nothing.
    """

    dsn: str | None = None
    _warehouse = PrivateAttr(default=None)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseResource]:
        run = context.run  # None outside a run (a sensor)
        days = run_days(run.tags) if run else []
        if not days:
            yield self
            return
        with hold_days(self.warehouse, days, run.run_id):
            yield self

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            settings = Settings.from_env()
            self._warehouse = Warehouse(self.dsn or settings.dsn(), settings.copy_connections)
        return self._warehouse


class AlertsResource(dg.ConfigurableResource):
    """Where alerts go besides dq.alerts. `webhook_url` overrides BANK_ASSETS_ALERT_WEBHOOK."""

    webhook_url: str | None = None

    @property
    def webhook(self) -> str | None:
        return self.webhook_url or Settings.from_env().alert_webhook
