"""The bench's memory sampler: the RSS sum of this process and its children, the children's
share at the peak, the proportional set size (PSS) next to it."""

from __future__ import annotations

import subprocess
import sys
import time

from bank_assets.cli.develop import PeakRss

# a child that holds ~300 MiB of its own (written, so resident) for a second
HOLD = "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(1.5)"


def test_the_peak_counts_the_children_and_says_what_they_held():
    with PeakRss(interval=0.05, pss_every=2) as rss:
        child = subprocess.Popen([sys.executable, "-c", HOLD])
        child.wait(timeout=30)
        time.sleep(0.1)
    assert rss.at_peak["python_workers"] == 1  # a child that is not the JVM: a Python worker
    assert rss.at_peak["python_workers_mb"] > 290
    assert rss.mb >= rss.at_peak["python_workers_mb"] + rss.at_peak["driver_mb"] - 1
    assert rss.own_mb >= rss.at_peak["driver_mb"] > 10 and rss.jvm_mb == 0
    # PSS: every page counted once; the child's pages are its own, so near its RSS
    assert rss.pss_mb > 290
    times = [at for at, _ in rss.samples]
    assert len(times) > 10 and times == sorted(times)
    assert max(size for _, size in rss.samples) == rss.peak
