"""bank_assets: a Dagster + Spark + PostgreSQL banking warehouse (README.md)."""

import os

# Freed memory goes back to the system at once, not kept for later: pyarrow's allocator
# (mimalloc) and polars' (jemalloc) read these when they load, so they are set before either is
# imported, here. The asset checks' Arrow batches and polars frames stayed resident after each
# check: on a 1M day the driver peaked at 975 MB in the transaction checks, 733 MB so (medians
# of 3; their seconds 7.4 -> 7.8, within the runs' spread; docs/performance.md, session 12).
# Spark's Python workers inherit them. A value already in the environment wins.
ALLOCATORS = {"MIMALLOC_PURGE_DELAY": "0", "_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}
for _name, _value in ALLOCATORS.items():
    os.environ.setdefault(_name, _value)
