-- Least privilege inside the warehouse database, applied by Warehouse.apply_ddl as the loader
-- (the owner of every schema and table here) after the analyst views. {analyst} is the
-- read-only analyst role (bank_assets/io/warehouse/access.py), formatted in as a quoted identifier.
-- Connecting to the database itself is granted there too (database_grants).

-- Nobody but the loader uses the warehouse schemas; analysts read the masked `analyst` schema.
revoke all on schema dw, quarantine, dq, staging, analyst from public;
revoke create on schema public from public;
grant usage on schema analyst to {analyst};
grant select on all tables in schema analyst to {analyst};
-- views (and tables) created later in `analyst` are readable by analysts too
alter default privileges in schema analyst grant select on tables to {analyst};
-- (no default privileges in dw, quarantine, dq or staging: what is created there later, such as
-- a day's partition, stays the loader's; the analyst view of a new table is generated)
grant execute on all functions in schema analyst to {analyst};
