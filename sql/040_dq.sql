-- Data-quality alerts: one row per failed run or failed blocking check, newest last.
-- Written by the alert sensors (bank_assets/defs/alerts.py), also posted to a webhook if set.
create table if not exists dq.alerts (
    alert_id      bigint generated always as identity primary key,
    raised_at     timestamptz not null default now(),
    kind          text not null,      -- run_failure | check_failure
    severity      text not null check (severity in ('fatal', 'error', 'warn')),
    run_id        text,
    job_name      text,
    partition_key text,
    message       text not null,
    details       jsonb not null default '{}'::jsonb,
    unique (kind, run_id)
);
create index if not exists alerts_raised_at on dq.alerts (raised_at);
