-- fact_transactions. Grain: one row per posting on one account; an internal transfer is two rows
-- (TRANSFER_OUT and TRANSFER_IN) sharing transfer_id. Range-partitioned by business day
-- (date_key, one partition per day, created when the day is loaded); the primary key includes
-- the partition column. Money is numeric, unsigned, with an explicit direction. Foreign keys to
-- every dimension are declared on the parent: each day's partition is validated when attached.
create table if not exists dw.fact_transactions (
    date_key              integer not null references dw.dim_dates,
    transaction_id        text not null,
    posted_at             timestamptz not null,
    account_key           bigint not null references dw.dim_accounts,
    client_key            bigint not null references dw.dim_clients,
    product_key           bigint not null references dw.dim_products,
    merchant_key          bigint not null references dw.dim_merchants,
    transaction_type_key  smallint not null references dw.dim_transaction_types,
    channel_key           smallint not null references dw.dim_channels,
    currency_key          smallint not null references dw.dim_currencies,
    account_id            text not null,
    client_id             text,
    -- the account's or client's master row was missing from the day's export (quarantined):
    -- its keys are those of the latest earlier version (see the master_version_of_the_day rule)
    previous_version      boolean not null default false,
    transaction_type      text not null,
    channel               text,
    direction             text not null check (direction in ('DEBIT', 'CREDIT')),
    amount                numeric(18,2) not null check (amount > 0),
    signed_amount         numeric(18,2) not null
        check (signed_amount = case direction when 'DEBIT' then -amount else amount end),
    currency              char(3) not null,
    fx_rate               numeric(18,8) check (fx_rate > 0),
    amount_eur            numeric(18,2),
    balance_after         numeric(18,2),
    status                text not null check (status in ('POSTED', 'DECLINED')),
    merchant_id           text,
    merchant_name         text,
    mcc                   text,
    counterparty_iban     text,
    transfer_id           text,
    -- never a full card number: 16 characters, the middle six masked (LIKE, not a regular
    -- expression, which added a sixth to the COPY of a day's postings)
    card_masked           text check (card_masked is null or card_masked like '______******____'),
    country               char(2),
    description           text,
    fraud_score           numeric(5,4) not null check (fraud_score between 0 and 1),
    fraud_rule            text,
    is_fraud_flagged      boolean not null,
    batch_id              date not null,
    source_file           text not null,
    landed_at             timestamptz not null,
    record_hash           text not null,
    primary key (date_key, transaction_id)
) partition by range (date_key);
-- warehouses created before these columns existed
alter table dw.fact_transactions add column if not exists client_id text;
alter table dw.fact_transactions
    add column if not exists previous_version boolean not null default false;
create index if not exists fact_transactions_account_key on dw.fact_transactions (account_key);
create index if not exists fact_transactions_client_key on dw.fact_transactions (client_key);
create index if not exists fact_transactions_merchant_key on dw.fact_transactions (merchant_key);
create index if not exists fact_transactions_type_channel
    on dw.fact_transactions (transaction_type_key, channel_key);
create index if not exists fact_transactions_posted_at on dw.fact_transactions using brin (posted_at);
-- flagged fraud is rare: a partial index finds it without scanning the day
create index if not exists fact_transactions_flagged
    on dw.fact_transactions (fraud_score) where is_fraud_flagged;
