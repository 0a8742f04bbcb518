-- Data-quality alerts: one row per failed run, per failed blocking check and per warn-level rule
-- that flagged rows (of a table and day: a re-run updates it), newest last. Written by the alert sensors (bank_assets/defs/alerts.py) and the
-- asset checks (bank_assets/builders/checks.py), also posted to a webhook if set.
create table if not exists dq.alerts (
    alert_id      bigint generated always as identity primary key,
    raised_at     timestamptz not null default now(),
    kind          text not null,      -- run_failure | check_failure | rule_warning
    severity      text not null check (severity in ('fatal', 'error', 'warn')),
    run_id        text,
    job_name      text,
    partition_key text,
    message       text not null,
    details       jsonb not null default '{}'::jsonb
);
create index if not exists alerts_raised_at on dq.alerts (raised_at);
-- What an alert is about ('' for the run itself; table:rule:day for a rule or a check).
alter table dq.alerts add column if not exists subject text not null default '';
alter table dq.alerts drop constraint if exists alerts_kind_run_id_key;  -- before `subject`
-- A run's failure is recorded once per run.
create unique index if not exists alerts_once on dq.alerts (kind, run_id, subject);
-- A rule or check is recorded once per subject, whichever run saw it: a re-run of the day
-- updates the row (run_id, raised_at: the latest) instead of adding one. A warehouse from
-- before this index keeps only the newest row of each subject.
do $$
begin
    if to_regclass('dq.alerts_once_per_subject') is null then
        delete from dq.alerts a using dq.alerts b
        where a.kind = b.kind and a.subject = b.subject and a.subject <> ''
          and a.alert_id < b.alert_id;
        create unique index alerts_once_per_subject on dq.alerts (kind, subject)
            where subject <> '';
    end if;
end
$$;

-- Data-quality results: one row per rule per table per day (the latest run of that day), the
-- history behind trend charts and `bank-assets dq`. Rules: bank_assets/model/quality.py (Pandera
-- catalogue), the staging rules that quarantine rows (bank_assets/model/staging.py) and the
-- reconciliation `rows_accounted_for`.
create table if not exists dq.results (
    batch_id     date not null,
    table_name   text not null,      -- the asset: staged/transactions, curated/fact_loans, ...
    rule_id      text not null,
    severity     text not null check (severity in ('fatal', 'error', 'warn')),
    description  text not null,
    checked      bigint not null check (checked >= 0),
    failed       bigint not null check (failed >= 0),
    quarantined  bigint,             -- error rules: rows staging quarantined for the rule
    passed       boolean not null,
    sample       jsonb not null default '[]'::jsonb,
    run_id       text,
    checked_at   timestamptz not null default now(),
    primary key (batch_id, table_name, rule_id)
);
