-- Type-1 dimensions: the latest delivery wins (upsert). Keys are deterministic: xxhash64 of the
-- natural key (products, merchants) or the code's position in bank_assets/model/reference.py
-- (currencies, transaction types, channels). Key -1 is the unknown member of each.

-- dim_products. Grain: one row per product (deposit, card, loan, insurance, investment).
create table if not exists dw.dim_products (
    product_key    bigint primary key,
    product_code   text not null unique,
    product_name   text not null,
    category       text not null
        check (category in ('DEPOSIT', 'CARD', 'LOAN', 'INSURANCE', 'INVESTMENT', 'UNKNOWN')),
    interest_rate  numeric(9,6),
    monthly_fee    numeric(18,2) check (monthly_fee >= 0),
    batch_id       date,
    source_file    text,
    landed_at      timestamptz,
    record_hash    text
);
insert into dw.dim_products (product_key, product_code, product_name, category)
values (-1, 'UNKNOWN', 'Unknown product', 'UNKNOWN')
on conflict do nothing;

-- dim_merchants. Grain: one row per merchant, with its ISO 18245 merchant category code.
create table if not exists dw.dim_merchants (
    merchant_key     bigint primary key,
    merchant_id      text not null unique,
    merchant_name    text not null,
    mcc              char(4),
    mcc_description  text,
    city             text,
    country          char(2),
    batch_id         date,
    source_file      text,
    landed_at        timestamptz,
    record_hash      text
);
create index if not exists dim_merchants_mcc on dw.dim_merchants (mcc);
insert into dw.dim_merchants (merchant_key, merchant_id, merchant_name)
values (-1, 'UNKNOWN', 'No merchant')
on conflict do nothing;

-- dim_currencies. Grain: one row per ISO 4217 currency with its minor units and the latest
-- reference rate (EUR per unit; the rate of each posting is on fact_transactions).
create table if not exists dw.dim_currencies (
    currency_key   smallint primary key,
    currency_code  char(3) not null unique,
    currency_name  text not null,
    minor_units    smallint not null check (minor_units between 0 and 4),
    eur_per_unit   numeric(18,8) check (eur_per_unit > 0),
    rate_date      date,
    batch_id       date,
    source_file    text,
    landed_at      timestamptz,
    record_hash    text
);
insert into dw.dim_currencies (currency_key, currency_code, currency_name, minor_units)
values (-1, 'XXX', 'Unknown currency', 2)
on conflict do nothing;

-- dim_transaction_types. Grain: one row per transaction type.
create table if not exists dw.dim_transaction_types (
    transaction_type_key  smallint primary key,
    transaction_type      text not null unique,
    description           text not null,
    direction             text check (direction in ('DEBIT', 'CREDIT')),
    channels              text
);
insert into dw.dim_transaction_types (transaction_type_key, transaction_type, description)
values (-1, 'UNKNOWN', 'Unknown type')
on conflict do nothing;

-- dim_channels. Grain: one row per channel.
create table if not exists dw.dim_channels (
    channel_key          smallint primary key,
    channel              text not null unique,
    description          text not null,
    is_card_not_present  boolean not null default false
);
insert into dw.dim_channels (channel_key, channel, description)
values (-1, 'UNKNOWN', 'Unknown channel')
on conflict do nothing;

-- dim_satisfaction. Grain: one row per survey response, keyed to the client version valid on
-- the day of the response. Replaced per day (batch_id).
create table if not exists dw.dim_satisfaction (
    survey_key    bigint primary key,
    survey_id     text not null unique,
    date_key      integer not null references dw.dim_dates,
    client_key    bigint not null references dw.dim_clients,
    product_key   bigint not null references dw.dim_products,
    client_id     text not null,
    product_code  text,
    channel       text,
    service       text,
    responded_at  timestamptz not null,
    csat          smallint not null check (csat between 1 and 5),
    nps           smallint not null check (nps between 0 and 10),
    nps_category  text not null check (nps_category in ('PROMOTER', 'PASSIVE', 'DETRACTOR')),
    is_complaint  boolean not null,
    comment       text,
    batch_id      date not null,
    source_file   text not null,
    landed_at     timestamptz not null,
    record_hash   text not null
);
create index if not exists dim_satisfaction_client on dw.dim_satisfaction (client_key);
create index if not exists dim_satisfaction_batch on dw.dim_satisfaction (batch_id);
