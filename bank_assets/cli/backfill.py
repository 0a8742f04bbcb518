"""`bank-assets backfill`: a Dagster asset backfill of the job's assets, submitted to the instance
as the UI's "Materialize" > backfill does (it shows on the Backfills page), run by the daemon
through the run queue (one run at a time, dagster.yaml), watched until it ends.

`--failed` submits one new backfill of what the latest unfinished backfill left: its failed days
in full (raw onward: their data may have been redelivered) and, on its good days, only the asset
partitions it did not materialize. Dagster's own "re-execute from failure" of an asset backfill
(the UI's, dagster_graphql's retry_partition_backfill) requests only the not-materialized
partitions: a day that failed a blocking check in staging keeps its raw and staged partitions,
so a redelivered day would not be read again. Hence the union below.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bank_assets.cli.common import run_errors, workspace_target
from bank_assets.cli.progress import Progress

POLL_SECONDS = 2.0
# A daemon is alive when its heartbeat (every 30 s) is this recent: a stopped `bank-assets dev`
# is not waited for long.
HEARTBEAT_TOLERANCE_SECONDS = 60
# What a backfill needs of a daemon: the backfill daemon (submits runs), the run queue, sensors
# (the failed-run alerts).
NEEDED_DAEMONS = ("BACKFILL", "QUEUED_RUN_COORDINATOR", "SENSOR")
ALERT_WAIT_SECONDS = 120
# Set on the daemon `bank-assets backfill` starts: its landing sensor skips (settings.py).
BACKFILL_DAEMON_VARIABLE = "BANK_ASSETS_BACKFILL_DAEMON"


def asset_graph():
    from bank_assets.definitions import defs

    return defs().resolve_asset_graph()


def submit_days(instance, days: list[date], title: str):
    """A backfill of every materializable asset for `days`, as the webserver's
    launchPartitionBackfill builds it; returns the PartitionBackfill."""
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.utils import make_new_backfill_id
    from dagster._time import get_current_timestamp

    graph = asset_graph()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=graph,
        partition_names=[d.isoformat() for d in days],
        asset_selection=sorted(graph.materializable_asset_keys),
        backfill_timestamp=get_current_timestamp(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description="bank-assets backfill",
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill


def submit_subset(instance, subset, parent, title: str):
    """A backfill of exactly `subset` (an AssetGraphSubset), a re-execution of `parent`."""
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.storage.tags import PARENT_BACKFILL_ID_TAG, ROOT_BACKFILL_ID_TAG
    from dagster._core.utils import make_new_backfill_id
    from dagster._time import get_current_timestamp

    backfill = PartitionBackfill.from_asset_graph_subset(
        backfill_id=make_new_backfill_id(),
        asset_graph_subset=subset,
        dynamic_partitions_store=instance,
        tags={
            PARENT_BACKFILL_ID_TAG: parent.backfill_id,
            ROOT_BACKFILL_ID_TAG: parent.tags.get(ROOT_BACKFILL_ID_TAG, parent.backfill_id),
        },
        backfill_timestamp=get_current_timestamp(),
        title=title,
        description=f"bank-assets backfill --failed of {parent.backfill_id}",
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill


def backfill_days(backfill) -> list[date]:
    """Every day a backfill targets, on any asset."""
    subset = backfill.get_asset_backfill_data(asset_graph()).target_subset
    return sorted({date.fromisoformat(ap.partition_key) for ap in _partitions(subset)})


def _partitions(subset):
    return [ap for ap in subset.iterate_asset_partitions() if ap.partition_key]


def latest_unfinished(instance):
    """The newest ended asset backfill that did not fully succeed and that no later backfill
    re-executed; None if there is none."""
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES, BulkActionStatus
    from dagster._core.storage.tags import PARENT_BACKFILL_ID_TAG

    backfills = instance.get_backfills(limit=100)  # newest first
    redone = {b.tags.get(PARENT_BACKFILL_ID_TAG) for b in backfills}
    for b in backfills:
        if (
            b.is_asset_backfill
            and b.status in BULK_ACTION_TERMINAL_STATUSES
            and b.status not in (BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED)
            and b.backfill_id not in redone
        ):
            return b
    return None


def what_is_left(instance, backfill, failed_days: list[date]):
    """The failed days in full, and the partitions of the good days the backfill did not
    materialize (downstream of the failure)."""
    from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
    from dagster._core.definitions.events import AssetKeyPartitionKey

    graph = asset_graph()
    data = backfill.get_asset_backfill_data(graph)
    failed = {d.isoformat() for d in failed_days}
    whole_days = AssetGraphSubset.from_asset_partition_set(
        {
            AssetKeyPartitionKey(ap.asset_key, ap.partition_key)
            for ap in _partitions(data.target_subset)
            if ap.partition_key in failed
        },
        graph,
    )
    return (data.target_subset - data.materialized_subset) | whole_days


def backfill_runs(instance, backfill_id: str) -> list:
    import dagster as dg
    from dagster._core.storage.tags import BACKFILL_ID_TAG

    runs = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}))
    return sorted(runs, key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)


def daemon_alive(instance) -> bool:
    from dagster._daemon.controller import get_daemon_statuses

    statuses = get_daemon_statuses(
        instance,
        NEEDED_DAEMONS,
        ignore_errors=True,
        heartbeat_tolerance_seconds=HEARTBEAT_TOLERANCE_SECONDS,
    )
    return all(s.healthy for s in statuses.values())


class Daemon:
    """`dagster-daemon run` on the project's workspace, started only while no daemon is alive,
    stopped (and its heartbeats wiped, so the next command does not wait for it) at the end."""

    def __init__(self, instance, log: Path):
        self.instance, self.log, self.process = instance, log, None

    def ensure(self) -> None:
        if (self.process and self.process.poll() is None) or daemon_alive(self.instance):
            return
        print(
            f"no Dagster daemon is running: starting `dagster-daemon run` for this backfill "
            f"(log: {self.log}); it stops when the backfill ends",
            flush=True,
        )
        bin_dir = Path(sys.executable).parent
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            BACKFILL_DAEMON_VARIABLE: "1",
        }
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(bin_dir / "dagster-daemon"), "run", *workspace_target()],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.instance.wipe_daemon_heartbeats()
        self.process = None


def watch(instance, backfill, daemon: Daemon | None) -> list:
    """Until the backfill ends: each run's status changes and its materializations; the runs."""
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES

    progress, shown = Progress(instance), {}
    while True:
        if daemon is not None:
            daemon.ensure()  # also when the deployment's daemon stopped meanwhile
        current = instance.get_backfill(backfill.backfill_id)
        runs = backfill_runs(instance, backfill.backfill_id)
        for run in runs:
            progress.poll(run.run_id)
            if shown.get(run.run_id) != run.status and run.status.value != "NOT_STARTED":
                shown[run.run_id] = run.status
                label = run_label(run)
                print(f"run {run.run_id} {run.status.value.lower()} ({label})", flush=True)
        if current.status in BULK_ACTION_TERMINAL_STATUSES and all(r.is_finished for r in runs):
            print(f"backfill {backfill.backfill_id}: {current.status.value.lower()}", flush=True)
            return runs
        time.sleep(POLL_SECONDS)


def run_label(run) -> str:
    from bank_assets.builders.alerts import run_label as label

    return label(run) or "no partition"


def verdict(dsn: str, run_ids: list[str], days: list[date]) -> dict[date, list[str]]:
    """Per day, the fatal data-quality rules that failed in these runs (dq.results), printed
    day by day with the day's warnings and quarantined rows; {} when every day passed."""
    failing: dict[date, list[str]] = defaultdict(list)
    warned: dict[date, int] = defaultdict(int)
    quarantined: dict[date, int] = defaultdict(int)
    for day, table, rule, severity, failed, held in rules_not_passed(dsn, run_ids):
        if severity == "fatal":
            failing[day].append(f"{table} {rule} ({failed:,} row(s))")
        elif severity == "warn":
            warned[day] += 1
        else:
            quarantined[day] += held or failed
    print("\ndata quality, day by day (bank-assets dq --date D for the details):")
    for day in days:
        said = f"FAILED {'; '.join(failing[day])}" if failing[day] else "passed"
        extra = [f"{warned[day]} warning(s)"] if warned[day] else []
        extra += [f"{quarantined[day]:,} row(s) quarantined"] if quarantined[day] else []
        print(f"  {day}  {said}{'  [' + ', '.join(extra) + ']' if extra else ''}")
    return {day: failing[day] for day in days if failing[day]}


def alerts_written(dsn: str, run_ids: list[str]) -> set[str]:
    from bank_assets.io.warehouse.loader import Warehouse

    with Warehouse(dsn).connect() as conn:
        if conn.execute("select to_regclass('dq.alerts')").fetchone()[0] is None:
            return set()
        rows = conn.execute(
            "select distinct run_id from dq.alerts where kind = 'run_failure' and run_id = any(%s)",
            (run_ids,),
        ).fetchall()
    return {r[0] for r in rows}


def report_failures(instance, dsn: str, failed_runs: list) -> Iterator[str]:
    """What each failed run says, and whether the daemon's failure_alerts sensor wrote its
    alert (waiting for it a little: the sensor runs every 30 s)."""
    ids = [r.run_id for r in failed_runs]
    deadline = time.monotonic() + ALERT_WAIT_SECONDS
    alerted = alerts_written(dsn, ids)
    while alerted != set(ids) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        alerted = alerts_written(dsn, ids)
    for run in failed_runs:
        yield f"run {run.run_id} failed: {run_errors(instance, run.run_id)}"
        yield (
            "failure alert written to dq.alerts"
            if run.run_id in alerted
            else "no failure alert in dq.alerts yet: the daemon's failure_alerts sensor writes it"
        )


def wait_and_report(instance, backfill, dsn: str, daemon: Daemon | None) -> int:
    """Watch the backfill to its end, print the day-by-day verdict and the run ids; 0 when it
    succeeded, else 1 with the failed days named."""
    import dagster as dg
    from dagster._core.execution.backfill import BulkActionStatus

    try:
        runs = watch(instance, backfill, daemon)
        failed_runs = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
        told = list(report_failures(instance, dsn, failed_runs)) if failed_runs else []
    finally:
        if daemon is not None:
            daemon.stop()
    days = backfill_days(backfill)
    failing = verdict(dsn, [r.run_id for r in runs], days)
    print(f"runs: {', '.join(r.run_id for r in runs) or 'none'}")
    status = instance.get_backfill(backfill.backfill_id).status
    if status == BulkActionStatus.COMPLETED_SUCCESS and not failing:
        return 0
    failed_days = failing or _unmaterialized_days(instance, backfill)
    for line in told:
        print(line, file=sys.stderr)
    print(
        f"backfill {backfill.backfill_id} {status.value.lower()}; failed days: "
        f"{', '.join(str(d) for d in sorted(failed_days)) or 'none'}. "
        "Re-run them with `bank-assets backfill --failed`.",
        file=sys.stderr,
    )
    return 1


def failed_days_of(instance, backfill, dsn: str) -> list[date]:
    """The days a backfill failed: those with a failed fatal rule in its runs, else (a run that
    failed for another reason) every day with an asset partition it did not materialize."""
    run_ids = [r.run_id for r in backfill_runs(instance, backfill.backfill_id)]
    fatal = {r[0] for r in rules_not_passed(dsn, run_ids) if r[3] == "fatal"}
    return sorted(fatal) or _unmaterialized_days(instance, backfill)


def rules_not_passed(dsn: str, run_ids: list[str]) -> list[tuple]:
    """The data-quality results these runs recorded that did not pass (dq.results: day, table,
    rule, severity, failed and quarantined rows), by day, table and rule; [] before any run
    created the table."""
    from bank_assets.io.warehouse.loader import Warehouse

    with Warehouse(dsn).connect() as conn:
        if conn.execute("select to_regclass('dq.results')").fetchone()[0] is None:
            return []
        return conn.execute(
            "select batch_id, table_name, rule_id, severity, failed, quarantined from dq.results"
            " where run_id = any(%s) and not passed order by batch_id, table_name, rule_id",
            (run_ids,),
        ).fetchall()


def _unmaterialized_days(instance, backfill) -> list[date]:
    data = instance.get_backfill(backfill.backfill_id).get_asset_backfill_data(asset_graph())
    left = data.target_subset - data.materialized_subset
    return sorted({date.fromisoformat(ap.partition_key) for ap in _partitions(left)})
