"""The memory settings reach the processes they are for: the JVM started by get_session runs
with two glibc malloc arenas (io/spark/session.py), and Spark's Python workers inherit it and
the package's allocator settings (bank_assets/__init__.py)."""

from __future__ import annotations

import os

import bank_assets


def test_the_jvm_and_its_python_workers_get_the_memory_settings(spark):
    assert spark._jvm.java.lang.System.getenv("MALLOC_ARENA_MAX") == "2"
    names = ["MALLOC_ARENA_MAX", *bank_assets.ALLOCATORS]
    seen = spark.sparkContext.parallelize([0], 1).map(lambda _: [os.environ.get(n) for n in names])
    [(arenas, *allocators)] = seen.collect()
    assert arenas == "2"
    # polars, once imported, puts its defaults before a value it finds (polars/__init__.py):
    # jemalloc reads the options in order, so the package's, last, still decide
    for value, ours in zip(allocators, bank_assets.ALLOCATORS.values(), strict=True):
        assert value == ours or value.endswith(f",{ours}"), value
