-- fact_transactions. Grain: one row per posting on one account; an internal transfer is two rows
-- (TRANSFER_OUT and TRANSFER_IN) sharing transfer_id. Range-partitioned by business day
-- (date_key, one partition per day, created when the day is loaded); the primary key includes
-- the partition column. Money is numeric, unsigned, with an explicit direction.
create table if not exists dw.fact_transactions (
    date_key           integer not null,
    transaction_id     text not null,
    posted_at          timestamptz not null,
    account_key        bigint not null,
    client_key         bigint not null,
    account_id         text not null,
    transaction_type   text not null,
    channel            text,
    direction          text not null check (direction in ('DEBIT', 'CREDIT')),
    amount             numeric(18,2) not null check (amount > 0),
    signed_amount      numeric(18,2) not null,
    currency           char(3) not null,
    fx_rate            numeric(18,8),
    amount_eur         numeric(18,2),
    balance_after      numeric(18,2),
    status             text not null,
    merchant_name      text,
    mcc                text,
    counterparty_iban  text,
    transfer_id        text,
    card_masked        text,
    country            text,
    description        text,
    batch_id           date not null,
    source_file        text not null,
    landed_at          timestamptz not null,
    record_hash        text not null,
    primary key (date_key, transaction_id)
) partition by range (date_key);
create index if not exists fact_transactions_account_key on dw.fact_transactions (account_key);
create index if not exists fact_transactions_client_key on dw.fact_transactions (client_key);
create index if not exists fact_transactions_posted_at on dw.fact_transactions using brin (posted_at);
