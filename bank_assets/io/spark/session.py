"""The Spark session: options, the class-data archive that starts it fast, the data sources."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyspark
from pyspark import SparkContext
from pyspark.sql import SparkSession

from bank_assets.io.spark.lake_source import (
    LakeDataSource,
    LandingDataSource,
)
from bank_assets.io.spark.warehouse_copy import WarehouseCopy

# The parallel collector: batch throughput, no concurrent GC threads competing with the tasks for
# the cores. Whole-stage codegen writes methods over HotSpot's 8,000-byte JIT limit for wide
# projections (the staging rules): compiled, not interpreted, they run 2.5x faster (staging
# 1,000,000 postings: 9.1 s -> 3.6 s once warm). A run spends a third of its CPU in the JIT, most
# in C2 on those huge methods: a lower C2 node limit gives up on the largest sooner (C1 code
# then); bench runs 95-98 s -> 91-95 s on 2 cores.
JVM_OPTIONS = (
    "-XX:+UseParallelGC -XX:-DontCompileHugeMethods -XX:MaxNodeLimit=30000 "
    "-XX:NodeLimitFudgeFactor=3000"
)
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")

# The project's settings for every session; a key of the caller's spark_config wins. Parallelism
# (shuffle partitions, executors) and the driver's memory come with the caller's: the settings'
# (Settings.spark_properties).
SESSION_CONFIG = {
    "spark.app.name": "bank_assets",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Arrow batches to the Python writers of 16,384 rows, not 65,536: with the worker option
    # below, Spark's Python workers held 2,324 -> 2,001 MB at a 1M day's peak, no slower
    # (docs/performance.md, session 11)
    "spark.sql.execution.arrow.maxRecordsPerBatch": "16384",
}
# ... and for a driver JVM started here (not a Spark Connect client's). A 2g heap: the parallel
# collector grows a heap towards its maximum, so 4g held ~0.85 GB more RSS on a 1M day (JVM
# 2.8 -> 1.9 GB) for no speed (docs/performance.md, session 10).
DRIVER_CONFIG = {
    "spark.driver.memory": "2g",
    "spark.executor.extraJavaOptions": JVM_OPTIONS,  # the executors of a cluster
    # Spark's Python workers are kept for reuse between tasks: pyarrow's allocator (mimalloc)
    # returns the pages of freed batches at once instead of keeping them for the next task
    "spark.executorEnv.MIMALLOC_PURGE_DELAY": "0",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
JAVA_OPTIONS = "spark.driver.extraJavaOptions"


def get_session(spark_config: Mapping[str, Any], class_cache: Path | None = None) -> SparkSession:
    """Create (or reuse) the session `spark_config` describes, as dagster-pyspark's resources
    take it (spark.master: local[*], spark://, local-cluster[...], or sc:// for Spark Connect),
    over the project's settings. The driver's JVM options get the log4j configuration and the
    JVM_OPTIONS before the caller's; with `class_cache`, a driver JVM started here shares Spark's
    classes through an archive kept there (see `class_archive`)."""
    # Python workers run this interpreter (the project's virtual environment) unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    config = {k: str(v) for k, v in spark_config.items()}
    master = config.pop("spark.master", None) or "local[*]"
    builder = SparkSession.builder
    pid_file = None
    if master.startswith("sc://"):
        builder = builder.remote(master)
        config = SESSION_CONFIG | config
    else:
        if master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # stay on loopback
        # The JVM started here (and its Python workers, which inherit it): two glibc malloc
        # arenas, not 8 per core, each keeping the freed native memory of the threads that used
        # it: the JVM's RSS 1,618 -> 1,500 MB at a 300k day's peak, no slower (docs/performance.md,
        # session 12)
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        config = SESSION_CONFIG | DRIVER_CONFIG | config
        java_options = f"{JVM_OPTIONS} {config.get(JAVA_OPTIONS, '')}".strip()
        archive_option = ""
        if class_cache is not None and SparkContext._active_spark_context is None:
            # what the archive must match: Java, the Spark jars (version and place), the options
            spark_jars = f"{pyspark.__file__}|{pyspark.__version__}"
            key = f"{_java()}|{spark_jars}|{java_options}|{config['spark.driver.memory']}"
            archive_option, pid_file = class_archive(
                class_cache, hashlib.sha256(key.encode()).hexdigest()[:16]
            )
        config[JAVA_OPTIONS] = (
            f"-Dlog4j2.configurationFile={LOG_CONFIG} {java_options} {archive_option}".strip()
        )
        builder = builder.master(master)
    for key, value in config.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("ERROR")
    if pid_file is not None:  # the JVM that writes the archive when it exits
        pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
        pid_file.write_text(str(pid))
    if not master.startswith("sc://"):
        # Spark looks Python data sources up in the calling thread's active session: a run in
        # another thread than the session's first (a test, a threaded launcher) makes it active.
        spark._jvm.SparkSession.setActiveSession(spark._jsparkSession)
    spark.dataSource.register(LakeDataSource)
    spark.dataSource.register(LandingDataSource)
    spark.dataSource.register(WarehouseCopy)
    return spark


def class_archive(cache: Path, key: str) -> tuple[str, Path | None]:
    """The JVM options for Spark's class data sharing archive (AppCDS) in `cache`, and the file
    where the caller records the pid of the JVM that writes one (None when it does not).

    Starting Spark loads some 20,000 classes from its jars, 6 s of a run's first asset; mapped
    from an archive, Spark starts 3 s sooner. The first JVM for a `key` (Java, Spark, options)
    writes the archive of the classes it loaded when it exits (in the background: up to a minute
    after a full run; Java 17 has no -XX:+AutoCreateSharedArchive); JVMs started meanwhile
    neither read nor write one. The writer's part file is promoted to the archive by a later
    start once its JVM is gone, with an atomic rename, so no run reads a half-written archive.
    Archives of other keys that no start used for ARCHIVE_UNUSED_DAYS are deleted.
    """
    archive = cache / f"spark-{key}.jsa"
    quiet = "-Xlog:cds=off -Xlog:cds+dynamic=off"  # a cache: nothing to report on the console
    recording = False
    for pid_file in sorted(cache.glob(f"spark-{key}.*.pid")):
        part = pid_file.with_suffix(".jsa")
        try:
            pid = pid_file.read_text().strip()
            if _alive(int(pid) if pid.isdigit() else 0):
                recording = True
                continue
            if not archive.exists() and part.exists() and part.stat().st_size:
                os.replace(part, archive)
            part.unlink(missing_ok=True)  # another finished part: one archive is enough
            pid_file.unlink(missing_ok=True)
        except FileNotFoundError:  # another start tidied this part first
            continue
    _prune(cache, keep=archive)
    if archive.exists():
        return f"-XX:SharedArchiveFile={archive} {quiet}", None
    if recording:  # one JVM records at a time (each dump takes a core for up to a minute)
        return "", None
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable cache: Spark starts without an archive, as it would anyway
        return "", None
    part = cache / f"spark-{key}.{uuid.uuid4().hex[:12]}.jsa"
    pid_file = part.with_suffix(".pid")
    pid_file.write_text(str(os.getpid()))  # this process until its JVM runs: others start plain
    return f"-XX:ArchiveClassesAtExit={part} {quiet}", pid_file


ARCHIVE_UNUSED_DAYS = 30


def _prune(cache: Path, keep: Path) -> None:
    """Mark the archive `keep` as used now and delete the files of other keys (another Java,
    Spark, venv or options: archives of 120-180 MB, parts a JVM left) that no start has used
    for ARCHIVE_UNUSED_DAYS."""
    now = time.time()
    for file in cache.glob("spark-*"):
        try:
            if file == keep:
                os.utime(file, (now, now))
            elif not file.name.startswith(f"{keep.stem}.") and (
                now - file.stat().st_mtime > ARCHIVE_UNUSED_DAYS * 86400
            ):
                file.unlink()
        except OSError:  # gone meanwhile, or not ours to change: a cache never fails a run
            continue


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's process
        pass
    return True


def _java() -> str:
    """The java binary PySpark starts, and its modification time (an upgrade changes both)."""
    home = os.environ.get("JAVA_HOME")
    java = (Path(home, "bin", "java") if home else Path(shutil.which("java") or "java")).resolve()
    return f"{java}@{java.stat().st_mtime if java.exists() else 0}"


def spark_jobs() -> list[dict]:
    """The Spark jobs this process's SparkContext ran, from its status store (kept with the UI
    disabled; the newest spark.ui.retainedJobs of them, 1,000 by default): per job its
    submission time (epoch seconds), the stages it ran, those it skipped (their shuffle output
    reused) and its tasks. None without a local SparkContext (a Spark Connect client)."""
    sc = SparkContext._active_spark_context
    if sc is None:
        return []
    store = sc._jsc.sc().statusStore()
    jobs = []
    for job_id in sc.statusTracker().getJobIdsForGroup():
        job = store.job(job_id)
        submitted = job.submissionTime()
        jobs.append(
            {
                "submitted": submitted.get().getTime() / 1000 if submitted.isDefined() else 0.0,
                "stages": job.numCompletedStages() + job.numFailedStages(),
                "skipped_stages": job.numSkippedStages(),
                "tasks": job.numCompletedTasks() + job.numFailedTasks(),
            }
        )
    return jobs
