-- Whether each alert reached the webhook (bank_assets/io/alerts.py writes the row first, then
-- posts it): 'delivered', 'failed', or null when no webhook was configured. A re-raised alert
-- (a later run, same subject) is posted again, so its delivery is reset with it.
alter table dq.alerts add column if not exists webhook_delivery text
    check (webhook_delivery in ('delivered', 'failed'));
