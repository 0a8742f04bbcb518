"""The Dagster definitions: everything under `bank_assets/defs/`, loaded by `dg` (`dg check defs`,
`dagster dev -m bank_assets.definitions`), run by the in-process executor."""

from pathlib import Path

import dagster as dg

import bank_assets.defs
from bank_assets.io.warehouse.access import private_umask
from bank_assets.settings import CHECKOUT

PACKAGE = Path(__file__).resolve().parent

# The code location, its runs and their Spark workers write client data (lake, Dagster home):
# private to the user, whoever started the process.
private_umask()


@dg.definitions
def defs() -> dg.Definitions:
    # A checkout has the project's [tool.dg] in pyproject.toml beside the package; an installed
    # package has no project file, so the same defs package is loaded directly.
    if CHECKOUT:
        loaded = dg.load_from_defs_folder(path_within_project=PACKAGE)
    else:
        loaded = dg.load_defs(bank_assets.defs, project_root=PACKAGE)
    # Spark runs in-process: one run = one Spark session shared by all its steps.
    return dg.Definitions.merge(loaded, dg.Definitions(executor=dg.in_process_executor))
