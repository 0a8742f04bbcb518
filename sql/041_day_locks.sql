-- Who holds a day: one row per landing day a run is working on (bank_assets/io/warehouse/day_locks.py).
-- The lock itself is a session-level advisory lock, released by PostgreSQL when the run's
-- session ends; this row only names the holder for the run that is refused (a dead run's row
-- stays until the next run of the day takes the lock and overwrites it).
create table if not exists dq.day_locks (
    day          date primary key,
    run_id       text not null,
    started_at   timestamptz not null,
    pid          integer not null,    -- the run's process
    host         text not null,
    backend_pid  integer not null     -- the PostgreSQL session holding the lock
);
