-- The alert kinds bank_assets/io/alerts.py writes (040_dq.sql's comment predates 'freshness',
-- defs/alerts.py): any other kind is refused rather than stored where no sensor reads it.
alter table dq.alerts drop constraint if exists alerts_kind_known;
alter table dq.alerts add constraint alerts_kind_known
    check (kind in ('run_failure', 'check_failure', 'rule_warning', 'freshness'));
comment on column dq.alerts.kind is 'run_failure | check_failure | rule_warning | freshness';
