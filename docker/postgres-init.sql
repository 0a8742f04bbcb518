-- docker-compose: a separate database for the Dagster instance (runs, events, schedules).
create database dagster owner bank;
