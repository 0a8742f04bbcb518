#!/bin/sh
# docker-compose, first start of the postgres container: the three roles of least privilege
# (bank_assets/io/warehouse/access.py) with their passwords from the environment (.env), their databases,
# and who may connect to which. Run by the image's entrypoint as the superuser. The grants inside
# the warehouse (the masked `analyst` schema) are applied by the loader (Warehouse.apply_ddl).
# psql quotes the variables itself (:'literal'), so a password is never spliced into SQL text.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v loader_password="$BANK_LOADER_PASSWORD" \
    -v dagster_password="$BANK_DAGSTER_PASSWORD" \
    -v analyst_password="$BANK_ANALYST_PASSWORD" <<'SQL'
create role bank_loader login password :'loader_password';
create role bank_dagster login password :'dagster_password';
create role bank_analyst login password :'analyst_password';
create database bank owner bank_loader;
create database dagster owner bank_dagster;
revoke all on database bank from public;
revoke all on database dagster from public;
revoke connect, temporary on database postgres from public;
grant connect on database bank to bank_analyst;
SQL
