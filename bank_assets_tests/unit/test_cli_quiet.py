"""What the commands do not print: Dagster's beta / preview / superseded notices, and the
code-location-name warning Dagster logs on every load of the definitions when dg's project
name (by default the checkout's directory) differs from the workspace's location."""

from __future__ import annotations

import tomllib
import warnings

import yaml

from bank_assets.settings import PROJECT_ROOT


def test_dagster_api_notices_are_ignored_and_other_warnings_kept():
    from dagster._utils.warnings import beta_warning, preview_warning, supersession_warning

    from bank_assets.cli import quiet_dagster_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_dagster_warnings()
        beta_warning("backfill_policy")
        preview_warning("partition= of AssetCheckEvaluation")
        supersession_warning("dev_command", "use dg dev")
        warnings.warn("a warning of our own", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["a warning of our own"]


def test_the_dg_project_names_the_workspaces_code_location():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["dg"]
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    assert project["project"]["code_location_name"] == location["python_module"]["location_name"]
