-- Quarantine: one row per landed row that failed an error-level rule, with the rule id, a reason
-- a person can act on, where it came from (file, line) and the raw payload as landed.
-- One table per source (bank_assets/model/sources.py), all shaped like this one: the others are
-- created from the list of sources by Warehouse.apply_ddl (bank_assets/io/warehouse/loader.py).
create table if not exists quarantine.transactions (
    batch_id     date not null,
    record_key   text,
    rule_id      text not null,
    reason       text not null,
    source_file  text not null,
    source_line  bigint not null,
    landed_at    timestamptz not null,
    raw_payload  text not null,
    record_hash  text not null
);
create index if not exists quarantine_transactions_batch on quarantine.transactions (batch_id, rule_id);
