"""The Dagster definitions: everything under `bank_assets/defs/`, loaded by `dg` (`dg check defs`,
`dagster dev -m bank_assets.definitions`), run by the in-process executor."""

from pathlib import Path

import dagster as dg

from bank_assets.io.warehouse.access import private_umask

# The code location, its runs and their Spark workers write client data (lake, Dagster home):
# private to the user, whoever started the process.
private_umask()


@dg.definitions
def defs() -> dg.Definitions:
    # Spark runs in-process: one run = one Spark session shared by all its steps.
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(executor=dg.in_process_executor),
    )
