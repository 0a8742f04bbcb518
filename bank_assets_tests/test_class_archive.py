"""Spark's class data sharing archive: written by the first JVM, promoted once that JVM is gone,
then mapped by the next ones (a real `java`, and the suite's own Spark driver)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bank_assets.lib.spark import class_archive
from bank_assets.resources import Settings

JAVA = shutil.which("java") or "java"


def java(*options: str) -> subprocess.CompletedProcess:
    command = [JAVA, *" ".join(options).split(), "-version"]
    return subprocess.run(command, capture_output=True, text=True, check=True)


def test_first_jvms_write_parts_the_next_start_promotes_one_and_maps_it(tmp_path):
    first, first_pid = class_archive(tmp_path, "k1")
    assert first.startswith("-XX:ArchiveClassesAtExit=") and first_pid is not None
    first_pid.write_text(str(os.getpid()))  # its JVM runs (or is still writing): left alone
    second, second_pid = class_archive(tmp_path, "k1")
    assert second.startswith("-XX:ArchiveClassesAtExit=") and second != first
    for option, pid_file in ((first, first_pid), (second, second_pid)):
        writer = subprocess.Popen([JAVA, *option.split(), "-version"])
        pid_file.write_text(str(writer.pid))
        assert writer.wait() == 0  # exited: its classes are dumped
    option, pid_file = class_archive(tmp_path, "k1")
    assert option.startswith("-XX:SharedArchiveFile=") and pid_file is None
    assert [p.name for p in tmp_path.iterdir()] == ["spark-k1.jsa"]  # one promoted, one dropped
    # -Xshare:on makes an archive the JVM cannot map a startup failure, not a warning.
    assert "sharing" in java("-Xshare:on", option).stderr
    # Another key (another Java, Spark or options) gets an archive of its own.
    assert class_archive(tmp_path, "k2")[0].startswith("-XX:ArchiveClassesAtExit=")


def test_a_part_whose_jvm_died_without_dumping_is_dropped(tmp_path):
    _, pid_file = class_archive(tmp_path, "k")
    gone = subprocess.Popen(["true"])
    gone.wait()
    pid_file.write_text(str(gone.pid))
    option, pid_file = class_archive(tmp_path, "k")
    assert option.startswith("-XX:ArchiveClassesAtExit=") and pid_file is not None
    assert [p.suffix for p in tmp_path.iterdir()] == []


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
