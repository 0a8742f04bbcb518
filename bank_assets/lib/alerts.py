"""Alerts: a row in dq.alerts, and a short JSON message to a webhook when one is configured.

The row is written first, so an unreachable webhook never loses an alert; the webhook error is
then raised (not swallowed) so the sensor tick that sent it shows as failed in the UI.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict, dataclass, field

from psycopg.types.json import Jsonb

from bank_assets.lib.warehouse import Warehouse


class AlertDeliveryError(RuntimeError):
    """The webhook did not accept the alert (it is still recorded in dq.alerts)."""


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failure | check_failure | rule_warning
    severity: str  # fatal | error | warn
    message: str
    run_id: str | None = None
    job_name: str | None = None
    partition_key: str | None = None
    details: dict = field(default_factory=dict)
    subject: str = ""  # what the alert is about within its run ("" = the run itself)


def raise_alert(warehouse: Warehouse, alert: Alert, webhook_url: str | None = None) -> bool:
    """Record the alert (once per kind, run and subject); post it to the webhook. True if it
    was new."""
    warehouse.apply_ddl()
    with warehouse.connect() as conn:
        inserted = conn.execute(
            "insert into dq.alerts (kind, severity, run_id, job_name, partition_key, message, "
            "details, subject) values (%s, %s, %s, %s, %s, %s, %s, %s) "
            "on conflict (kind, run_id, subject) do nothing returning alert_id",
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
    if inserted and webhook_url:
        post(webhook_url, {"source": "bank_assets", **asdict(alert)})
    return inserted is not None


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
