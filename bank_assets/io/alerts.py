"""Alerts: a row in dq.alerts, and a short JSON message to a webhook when one is configured.

The row is written first, so an unreachable webhook never loses an alert; the webhook error is
then raised (not swallowed) so the sensor tick that sent it shows as failed in the UI. The row
records whether the webhook got it (`webhook_delivery`), which `bank-assets alerts` shows.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict, dataclass, field

from psycopg.types.json import Jsonb

from bank_assets.io.warehouse.loader import Warehouse

# the kinds dq.alerts accepts (its check constraint, sql/090_alert_kinds.sql)
KINDS = ("run_failure", "check_failure", "rule_warning", "freshness")


class AlertDeliveryError(RuntimeError):
    """The webhook did not accept the alert (it is still recorded in dq.alerts)."""


@dataclass(frozen=True)
class Alert:
    kind: str  # one of KINDS
    severity: str  # fatal | error | warn
    message: str
    run_id: str | None = None
    job_name: str | None = None
    partition_key: str | None = None
    details: dict = field(default_factory=dict)
    subject: str = ""  # what the alert is about ("" = the run itself; else table:rule:day)


def raise_alert(warehouse: Warehouse, alert: Alert, webhook_url: str | None = None) -> bool:
    """Record the alert and post it to the webhook; True if this run had not recorded it yet.

    A run's own failure (`subject` "") is recorded once per run. An alert about a subject (a
    rule or check of a table and day) is recorded once per subject: a later run that raises it
    again updates the row (its run id and time, the latest message) and posts it again; the
    same run raising it again (a sensor tick repeated) changes nothing.
    """
    warehouse.apply_ddl()
    if alert.subject:
        conflict = (
            "on conflict (kind, subject) where subject <> '' do update set "
            "severity = excluded.severity, run_id = excluded.run_id, "
            "job_name = excluded.job_name, partition_key = excluded.partition_key, "
            "message = excluded.message, details = excluded.details, raised_at = now(), "
            "webhook_delivery = null "
            "where dq.alerts.run_id is distinct from excluded.run_id"
        )
    else:
        conflict = "on conflict (kind, run_id, subject) do nothing"
    with warehouse.connect() as conn:
        recorded = conn.execute(
            "insert into dq.alerts (kind, severity, run_id, job_name, partition_key, message, "
            f"details, subject) values (%s, %s, %s, %s, %s, %s, %s, %s) {conflict} "
            "returning alert_id",
            (
                alert.kind,
                alert.severity,
                alert.run_id,
                alert.job_name,
                alert.partition_key,
                alert.message,
                Jsonb(alert.details),
                alert.subject,
            ),
        ).fetchone()
    if recorded and webhook_url:
        delivery = "failed"
        try:
            post(webhook_url, {"source": "bank_assets", **asdict(alert)})
            delivery = "delivered"
        finally:
            with warehouse.connect() as conn:
                conn.execute(
                    "update dq.alerts set webhook_delivery = %s where alert_id = %s",
                    (delivery, recorded[0]),
                )
    return recorded is not None


def post(url: str, payload: dict, timeout: float = 10.0) -> None:
    body = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except OSError as e:
        raise AlertDeliveryError(f"alert webhook {url} failed: {e}") from e
    if not 200 <= status < 300:
        raise AlertDeliveryError(f"alert webhook {url} answered HTTP {status}")
