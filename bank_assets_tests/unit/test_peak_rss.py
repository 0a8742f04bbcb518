"""The bench's memory sampler: the RSS sum of this process and its children, the children's
share at the peak, the proportional set size (PSS) next to it. The sampler runs in a process of
its own: a test worker has children of its own (Spark, servers) that it would count."""

from __future__ import annotations

import json
import subprocess
import sys

# a child that holds ~300 MiB of its own (written, so resident) for a second
HOLD = "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(1.5)"
SAMPLER = f"""
import json, subprocess, sys, time
from bank_assets.cli.develop import PeakRss
with PeakRss(interval=0.05, pss_every=2) as rss:
    child = subprocess.Popen([sys.executable, "-c", {HOLD!r}])
    child.wait(timeout=30)
    time.sleep(0.1)
print(json.dumps({{
    "at_peak": rss.at_peak, "mb": rss.mb, "own_mb": rss.own_mb, "jvm_mb": rss.jvm_mb,
    "pss_mb": rss.pss_mb, "samples": rss.samples, "peak": rss.peak,
}}))
"""


def test_the_peak_counts_the_children_and_says_what_they_held():
    out = subprocess.run(
        [sys.executable, "-c", SAMPLER], capture_output=True, text=True, timeout=60, check=True
    )
    rss = json.loads(out.stdout)
    at_peak = rss["at_peak"]
    assert at_peak["python_workers"] == 1  # a child that is not the JVM: a Python worker
    assert at_peak["python_workers_mb"] > 290
    assert rss["mb"] >= at_peak["python_workers_mb"] + at_peak["driver_mb"] - 1
    assert rss["own_mb"] >= at_peak["driver_mb"] > 10 and rss["jvm_mb"] == 0
    # PSS: every page counted once; the child's pages are its own, so near its RSS
    assert rss["pss_mb"] > 290
    times = [at for at, _ in rss["samples"]]
    assert len(times) > 10 and times == sorted(times)
    assert max(size for _, size in rss["samples"]) == rss["peak"]
