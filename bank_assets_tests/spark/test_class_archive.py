"""Spark's class data sharing archive: written by the first JVM, promoted once that JVM is gone,
then mapped by the next ones (a real `java`, and the suite's own Spark driver)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from bank_assets.io.spark.session import class_archive
from bank_assets.settings import Settings

JAVA = shutil.which("java") or "java"


def java(*options: str) -> subprocess.CompletedProcess:
    command = [JAVA, *" ".join(options).split(), "-version"]
    return subprocess.run(command, capture_output=True, text=True, check=True)


def test_one_jvm_records_the_next_start_promotes_its_part_and_maps_it(tmp_path):
    option, pid_file = class_archive(tmp_path, "k1")
    assert option.startswith("-XX:ArchiveClassesAtExit=") and pid_file is not None
    assert pid_file.read_text() == str(os.getpid())  # until the JVM runs and takes over
    # While a JVM records (or dumps at its exit), others neither read nor write an archive.
    assert class_archive(tmp_path, "k1") == ("", None)
    writer = subprocess.Popen([JAVA, *option.split(), "-version"])
    pid_file.write_text(str(writer.pid))
    assert writer.wait() == 0  # exited: its classes are dumped
    # A second finished part (two JVMs that started at the same moment): one archive is kept.
    part = pid_file.with_suffix(".jsa")
    shutil.copy(part, tmp_path / "spark-k1.other.jsa")
    (tmp_path / "spark-k1.other.pid").write_text(str(writer.pid))
    option, pid_file = class_archive(tmp_path, "k1")
    assert option.startswith("-XX:SharedArchiveFile=") and pid_file is None
    assert [p.name for p in tmp_path.iterdir()] == ["spark-k1.jsa"]
    # -Xshare:on makes an archive the JVM cannot map a startup failure, not a warning.
    assert "sharing" in java("-Xshare:on", option).stderr
    # Another key (another Java, Spark or options) gets an archive of its own.
    assert class_archive(tmp_path, "k2")[0].startswith("-XX:ArchiveClassesAtExit=")


def test_a_part_whose_jvm_died_without_dumping_is_dropped(tmp_path):
    _, pid_file = class_archive(tmp_path, "k")
    gone = subprocess.Popen(["true"])
    gone.wait()
    pid_file.write_text(str(gone.pid))
    option, new_pid_file = class_archive(tmp_path, "k")
    assert option.startswith("-XX:ArchiveClassesAtExit=") and new_pid_file != pid_file
    assert [p.name for p in tmp_path.iterdir()] == [new_pid_file.name]  # the new recorder only


def test_archives_unused_for_a_month_are_pruned_the_one_in_use_is_kept(tmp_path):
    month_ago = time.time() - 31 * 86400
    old = ("spark-k.jsa", "spark-old.jsa", "spark-old.abc.jsa", "spark-old.abc.pid")
    for name in (*old, "spark-recent.jsa", "spark-k.def.jsa"):
        (tmp_path / name).write_bytes(b"x")
        if name in old:
            os.utime(tmp_path / name, (month_ago, month_ago))
    assert class_archive(tmp_path, "k")[0].startswith("-XX:SharedArchiveFile=")
    # another key's old archive and part go; a recent archive stays, and so does a part of this
    # key (no pid file here: the part logic, not the age, decides its fate)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["spark-k.def.jsa", "spark-k.jsa", "spark-recent.jsa"]
    assert (tmp_path / "spark-k.jsa").stat().st_mtime > month_ago + 86400  # marked as used


def test_an_unwritable_cache_only_means_no_archive(tmp_path):
    (tmp_path / "file").write_text("")
    assert class_archive(tmp_path / "file" / "cache", "k") == ("", None)


def test_the_spark_driver_maps_or_writes_the_archive(spark):
    arguments = list(
        spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    )
    (option,) = [a for a in arguments if "SharedArchiveFile" in a or "ArchiveClassesAtExit" in a]
    path = option.split("=", 1)[1]
    assert path.startswith(str(Settings.from_env().jvm_cache))
    if "ArchiveClassesAtExit" in option:  # the first run: this JVM's pid marks its part
        pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
        assert Path(path).with_suffix(".pid").read_text() == str(pid)


def test_the_resource_takes_spark_config_over_the_settings():
    """SparkResource is dagster-pyspark's lazy resource: a key of its spark_config wins over
    BANK_ASSETS_SPARK_MASTER / BANK_ASSETS_SPARK_DRIVER_MEMORY, which fill in the others."""
    from dagster_pyspark import LazyPySparkResource

    from bank_assets.resources import SparkResource

    settings = Settings.from_env(
        {"BANK_ASSETS_SPARK_MASTER": "spark://h:7077", "BANK_ASSETS_SPARK_DRIVER_MEMORY": "3g"}
    )
    assert isinstance(SparkResource(), LazyPySparkResource)
    assert SparkResource().properties(settings) == {
        "spark.master": "spark://h:7077",
        "spark.driver.memory": "3g",
        # a cluster's parallelism defaults (unit/test_settings_spark.py)
        "spark.sql.shuffle.partitions": "64",
        "spark.executor.memory": "4g",
        "spark.executor.cores": "2",
    }
    given = SparkResource(spark_config={"spark.master": "sc://h:15002", "spark.jars": "x.jar"})
    assert given.properties(settings) == {  # a Connect server's executors are its own
        "spark.master": "sc://h:15002",
        "spark.driver.memory": "3g",
        "spark.sql.shuffle.partitions": "8",
        "spark.jars": "x.jar",
    }
    nested = SparkResource(spark_config={"spark": {"driver": {"memory": "6g"}}})
    assert nested.properties(settings)["spark.driver.memory"] == "6g"


def test_the_resource_session_has_the_project_options(spark):
    """The resource's session (the suite's driver, reused) has its spark_config, the log4j
    configuration and the JVM options; the class archive option is checked above."""
    from bank_assets.io.spark.session import JVM_OPTIONS, LOG_CONFIG
    from bank_assets.resources import SparkResource

    # a runtime SQL option a reused session still takes, that changes no result
    probe = {"spark.master": "local[2]", "spark.sql.repl.eagerEval.maxNumRows": "21"}
    assert SparkResource(spark_config=probe).session is spark
    assert spark.conf.get("spark.sql.repl.eagerEval.maxNumRows") == "21"
    options = spark.sparkContext.getConf().get("spark.driver.extraJavaOptions")  # after Spark's
    assert f"-Dlog4j2.configurationFile={LOG_CONFIG} {JVM_OPTIONS}" in options
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
