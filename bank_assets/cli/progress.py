"""Progress of a run as it happens: its materializations read from the instance's event log
(one line per asset: its days, rows, seconds), for the in-process demo and for backfills."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable


class Progress:
    """Prints a run's materializations as they reach the instance's event log: one line per
    asset (its days, rows, seconds)."""

    def __init__(self, instance, out: Callable[[str], None] = print):
        self.instance, self.out, self.cursors = instance, out, {}

    def poll(self, run_id: str) -> None:
        import dagster as dg

        connection = self.instance.get_records_for_run(
            run_id,
            cursor=self.cursors.get(run_id),
            of_type={dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.STEP_FAILURE},
        )
        self.cursors[run_id] = connection.cursor
        by_asset: dict[str, list] = defaultdict(list)
        for record in connection.records:
            event = record.event_log_entry.dagster_event
            if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                self.out(f"  failed       {event.step_key}")
                continue
            by_asset[event.asset_key.to_user_string()].append(event)
        for key, events in by_asset.items():
            days = sorted(e.partition for e in events if e.partition)
            meta = [e.step_materialization_data.materialization.metadata for e in events]
            # each day's event carries that day's own rows and seconds (builders/metadata.py)
            rows = sum(_value(m, "dagster/partition_row_count") for m in meta)
            seconds = sum(_value(m, "seconds") for m in meta)
            when = _days_label(days)
            self.out(f"  materialized {key:<36} {when:<24}{rows:>10,} rows{seconds:>8.1f}s")


def _value(metadata, key: str) -> float:
    value = metadata.get(key)
    return value.value if value is not None and value.value is not None else 0


def _days_label(days: list[str]) -> str:
    if len(days) > 2:
        return f"{days[0]}..{days[-1]}"
    return ", ".join(days)
