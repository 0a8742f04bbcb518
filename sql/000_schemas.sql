-- Schemas of the warehouse. The numbered files of sql/ are migrations, applied once each and
-- recorded in public.schema_migrations (bank_assets/io/warehouse/migrations.py): a change is a
-- new file, never an edit. 000-050 stay idempotent: they baseline a pre-ledger warehouse.
create schema if not exists dw;          -- the star schema analysts query
create schema if not exists quarantine;  -- rows that failed an error-level rule, with the reason
create schema if not exists dq;          -- data-quality results and alerts
create schema if not exists staging;     -- per-load staging tables (unlogged, dropped after the swap)
create extension if not exists btree_gist;  -- SCD2 validity: exclusion constraints on (id, range)
