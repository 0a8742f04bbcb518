-- Schemas of the warehouse. Applied idempotently before every load (bank_assets.lib.warehouse).
create schema if not exists dw;          -- the star schema analysts query
create schema if not exists quarantine;  -- rows that failed an error-level rule, with the reason
create schema if not exists dq;          -- data-quality results and alerts
create schema if not exists staging;     -- per-load staging tables (unlogged, dropped after the swap)
create extension if not exists btree_gist;  -- SCD2 validity: exclusion constraints on (id, range)
