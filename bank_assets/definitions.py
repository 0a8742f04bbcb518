"""The Dagster definitions: only assembles what the domains define (`dagster dev -m ...`)."""

import dagster as dg

from bank_assets.defs import (
    accounts,
    calendar,
    clients,
    currencies,
    fraud,
    loans,
    merchants,
    products,
    reference,
    revenue,
    satisfaction,
    transactions,
)
from bank_assets.defs.alerts import AlertsResource, failure_alerts
from bank_assets.defs.automation import daily_schedule, landing_sensor
from bank_assets.defs.jobs import daily_job
from bank_assets.lib.access import private_umask
from bank_assets.resources import LakeResource, SparkResource, WarehouseResource

# The code location, its runs and their Spark workers write client data (lake, Dagster home):
# private to the user, whoever started the process.
private_umask()

defs = dg.Definitions(
    assets=[
        asset
        for domain in (
            calendar,
            reference,
            clients,
            accounts,
            products,
            merchants,
            currencies,
            transactions,
            fraud,
            loans,
            revenue,
            satisfaction,
        )
        for asset in domain.assets
    ],
    jobs=[daily_job],
    sensors=[landing_sensor, failure_alerts],
    schedules=[daily_schedule],
    resources={
        "spark": SparkResource(),
        "lake": LakeResource(),
        "warehouse": WarehouseResource(),
        "alerts": AlertsResource(),
    },
    executor=dg.in_process_executor,
)
