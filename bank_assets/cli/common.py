"""What operator and developer commands share: the Dagster home, the workspace the Dagster
processes load, running days as one run in this process, the alerts of a failed run, the
figures of a run, DSNs fit to print."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from importlib.resources import files
from pathlib import Path

from bank_assets.settings import Settings

JOB = "daily_warehouse"


def prepare_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME with the project's dagster.yaml; instance storage in PostgreSQL.

    With no DAGSTER_PG_URL set, the embedded PostgreSQL server also holds the Dagster instance
    (database `dagster`, role bank_dagster), so the UI, the daemon and the CLI share runs and
    materializations.
    """
    home = settings.dagster_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    # package data: a checkout and an installed package ship the same file (see pyproject.toml)
    shutil.copyfile(files("bank_assets") / "dagster.yaml", home / "dagster.yaml")
    (home / "dagster.yaml").chmod(0o600)
    os.environ["DAGSTER_HOME"] = str(home)
    # as the Dagster role, which reaches its own database only
    os.environ["DAGSTER_PG_URL"] = settings.dagster_url()
    return home


def redacted(dsn: str) -> str:
    """A DSN fit to print: the password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@]+@", r"\1***@", dsn)


def workspace_target() -> list[str]:
    """The code location `dagster dev` and `dagster-daemon run` load: the checkout's
    workspace.yaml, or the module (an installed package ships no workspace.yaml)."""
    from bank_assets.settings import CHECKOUT, PROJECT_ROOT

    if CHECKOUT:
        return ["-w", str(PROJECT_ROOT / "workspace.yaml")]
    return ["-m", "bank_assets.definitions"]


def run_days(instance, start: date, end: date, log_level: str = "INFO", progress: bool = False):
    """Materialize every asset for days start..end as one run in this process (demo, bench).

    With `progress`, each asset is printed as it materializes (read from the instance's event
    log while the run goes on). A failed run writes its failure alerts as the daemon's sensor
    does for its runs (dq.alerts and the webhook), then exits with what failed."""
    import threading

    from dagster._core.utils import make_new_run_id

    from bank_assets.cli.progress import Progress
    from bank_assets.definitions import defs

    job = defs().resolve_job_def(JOB)
    config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    run_id = make_new_run_id()
    if start == end:
        kwargs = {"partition_key": start.isoformat()}
    else:
        kwargs = {
            "tags": {
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
            }
        }
    done = threading.Event()

    def show() -> None:
        printer = Progress(instance, lambda line: print(line, flush=True))
        while not done.wait(1.0):
            if instance.has_run(run_id):
                printer.poll(run_id)
        printer.poll(run_id)

    watcher = threading.Thread(target=show, daemon=True) if progress else None
    if watcher:
        watcher.start()
    try:
        result = job.execute_in_process(
            run_config=config, instance=instance, run_id=run_id, raise_on_error=False, **kwargs
        )
    finally:
        done.set()
        if watcher:
            watcher.join()
    if not result.success:
        raise SystemExit(failed_run(instance, result))
    return result


def failed_run(instance, result) -> str:
    """Write the failure alerts of a failed in-process run; what to tell the user."""
    from bank_assets.builders.alerts import alert_failed_run
    from bank_assets.io.alerts import AlertDeliveryError
    from bank_assets.io.warehouse.loader import Warehouse, WarehouseError
    from bank_assets.io.warehouse.migrations import MigrationError
    from bank_assets.resources import AlertsResource

    run = instance.get_run_by_id(result.run_id)
    steps = result.get_step_failure_events()
    told = f"run {run.run_id} failed: {run_errors(instance, run.run_id)}"
    try:
        alert_failed_run(
            instance,
            run,
            _run_failure_message(instance, run.run_id),
            [e.step_key for e in steps],
            Warehouse(Settings.from_env().dsn()),
            AlertsResource().webhook,
        )
    except (WarehouseError, MigrationError, AlertDeliveryError) as e:
        return f"{told}\nits failure alert was not delivered: {e}"
    return f"{told}\nfailure alert written to dq.alerts"


def run_errors(instance, run_id: str) -> str:
    """What failed in a run, from the instance's event log: each failed step and the root
    cause of its error, or the run's own error when it failed before any step."""
    import dagster as dg

    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
    ).records
    events = [r.event_log_entry.dagster_event for r in records]
    errors = [
        f"{e.step_key}: {_root_cause(e.event_specific_data.error)}"
        for e in events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    failure = next((e for e in events if e.event_type == dg.DagsterEventType.RUN_FAILURE), None)
    if not errors and failure and failure.event_specific_data and failure.event_specific_data.error:
        errors.append(_root_cause(failure.event_specific_data.error))  # before any step
    return "; ".join(errors) or _run_failure_message(instance, run_id)


def _run_failure_message(instance, run_id: str) -> str:
    import dagster as dg

    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return (
        records[-1].event_log_entry.dagster_event.message
        if records
        else ("the run did not succeed")
    )


def _root_cause(error) -> str:
    """The message of the error a Dagster error info wraps (e.g. the resource's own error), on
    one line."""
    while error.cause is not None:
        error = error.cause
    return " ".join(error.message.split())


def checks_seconds(result) -> float:
    """Seconds the run's asset checks took: per asset, the `checks_seconds` its checks share."""
    per_asset: dict[str, float] = {}
    for evaluation in result.get_asset_check_evaluations():
        seconds = evaluation.metadata.get("checks_seconds")
        if seconds is not None:
            per_asset[evaluation.asset_key.to_user_string()] = seconds.value
    return sum(per_asset.values())


def asset_figures(result) -> dict[str, dict]:
    """Per asset: the rows and seconds of the run, summed over the days it materialized (each
    day's materialization event carries that day's own figures)."""
    figures: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in mat.metadata.items()}
        f = figures.setdefault(mat.asset_key.to_user_string(), {"rows": 0, "seconds": 0.0})
        f["rows"] += meta.get("dagster/partition_row_count", 0)
        f["seconds"] = round(f["seconds"] + meta.get("seconds", 0.0), 3)
    return figures
