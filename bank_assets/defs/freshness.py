"""Freshness: yesterday's partition of every warehouse fact is expected by 09:00 Europe/Paris.

Dagster's time-partition freshness checks (`freshness_check` on each fact) do it: after the
deadline, the check fails until the day's partition has a materialization. Why not the newer
`FreshnessPolicy`: in Dagster 1.13 its evaluator looks at an asset's latest materialization of
any partition, so a backfill of an old day would count as fresh; this check asks for yesterday's
partition itself. The check runs with every run of the daily job (so a load that brings the day
turns it green) and, between runs, from `freshness_checks_sensor` (not in the daemon a CLI
backfill starts). A failed one is also an alert
(defs/alerts.py, freshness_alerts).
"""

import warnings
from datetime import UTC, datetime, timedelta

import dagster as dg

from bank_assets.model.tables import TABLES
from bank_assets.settings import Settings

DEADLINE_CRON, TIMEZONE = "0 9 * * *", "Europe/Paris"
DEADLINE = "09:00 Europe/Paris"  # the same, as people read it
FACTS = [
    dg.AssetKey(["warehouse", t.name])
    for t in TABLES.values()
    if t.schema == "dw" and t.name.startswith("fact_")
]

with warnings.catch_warnings():  # "superseded by FreshnessPolicy": chosen anyway, see above
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    freshness_checks = dg.build_time_partition_freshness_checks(
        assets=FACTS,
        deadline_cron=DEADLINE_CRON,
        timezone=TIMEZONE,
        severity=dg.AssetCheckSeverity.ERROR,
    )
    # not in the daemon `bank-assets backfill` starts for its backfill (no automation there:
    # settings.py), so no check runs are launched beside the backfill's
    if not Settings.from_env().backfill_daemon:
        freshness_sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=freshness_checks,
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=60,
        )
CHECK_KEYS = [spec.key for checks in freshness_checks for spec in checks.check_specs]


def expected_day(evaluation: dg.AssetCheckEvaluation) -> str:
    """The partition a freshness evaluation expected: the last UTC day over at its deadline."""
    deadline = evaluation.metadata["dagster/latest_cron_tick_timestamp"].value
    return (datetime.fromtimestamp(deadline, UTC).date() - timedelta(days=1)).isoformat()
