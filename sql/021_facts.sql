-- fact_fraudes. Grain: one row per fraud alert, always one flagged posting of fact_transactions
-- (date_key, transaction_id). That link is not a foreign key: a day's fact partition is swapped
-- on reload, which a referencing table would block; the load order (alerts after postings) and
-- the tests keep it whole.
create table if not exists dw.fact_fraudes (
    alert_id              text primary key,
    date_key              integer not null references dw.dim_dates,
    transaction_id        text not null,
    posted_at             timestamptz not null,
    account_key           bigint not null references dw.dim_accounts,
    client_key            bigint not null references dw.dim_clients,
    transaction_type_key  smallint not null references dw.dim_transaction_types,
    channel_key           smallint not null references dw.dim_channels,
    rule_id               text not null,
    detected_by           text not null,
    score                 numeric(5,4) not null check (score between 0 and 1),
    fraud_type            text not null,
    case_status           text not null check (case_status in ('OPEN', 'CONFIRMED', 'DISMISSED')),
    amount_at_risk        numeric(18,2) not null check (amount_at_risk >= 0),
    amount_lost           numeric(18,2) not null check (amount_lost between 0 and amount_at_risk),
    amount_recovered      numeric(18,2) not null check (amount_recovered between 0 and amount_lost),
    batch_id              date not null,
    source_file           text not null,
    landed_at             timestamptz not null,
    record_hash           text not null,
    unique (date_key, transaction_id)
);
create index if not exists fact_fraudes_batch on dw.fact_fraudes (batch_id);
create index if not exists fact_fraudes_client on dw.fact_fraudes (client_key);

-- fact_loans. Grain: one row per loan, an accumulating snapshot: milestone date keys
-- (application, decision, disbursement; -1 until reached) and the state as of date_key, the
-- latest day loaded (a re-run of an older day never overwrites a newer state).
create table if not exists dw.fact_loans (
    loan_id                 text primary key,
    date_key                integer not null references dw.dim_dates,
    client_key              bigint not null references dw.dim_clients,
    account_key             bigint not null references dw.dim_accounts,
    product_key             bigint not null references dw.dim_products,
    application_date_key    integer not null references dw.dim_dates,
    decision_date_key       integer not null references dw.dim_dates,
    disbursement_date_key   integer not null references dw.dim_dates,
    client_id               text not null,
    product_code            text not null,
    branch_code             text,
    decision                text not null check (decision in ('PENDING', 'APPROVED', 'REJECTED')),
    status                  text not null check (status in
        ('APPLIED', 'APPROVED', 'REJECTED', 'ACTIVE', 'CLOSED', 'DEFAULTED')),
    principal               numeric(18,2) not null check (principal > 0),
    currency                char(3) not null,
    annual_rate             numeric(9,6) not null check (annual_rate >= 0),
    term_months             integer not null check (term_months > 0),
    installment             numeric(18,2) not null check (installment > 0),
    outstanding_principal   numeric(18,2) not null
        check (outstanding_principal between 0 and principal),
    days_past_due           integer not null check (days_past_due >= 0),
    delinquency_bucket      text not null,
    batch_id                date not null,
    source_file             text not null,
    landed_at               timestamptz not null,
    record_hash             text not null
);
create index if not exists fact_loans_client on dw.fact_loans (client_key);
create index if not exists fact_loans_status on dw.fact_loans (status, delinquency_bucket);

-- fact_payments. Grain: one row per loan installment, in the partition of the day it was
-- settled (paid on time, late, partially, or declared missed). Range-partitioned by date_key.
create table if not exists dw.fact_payments (
    date_key         integer not null references dw.dim_dates,
    installment_id   text not null,
    loan_id          text not null,
    client_key       bigint not null references dw.dim_clients,
    account_key      bigint not null references dw.dim_accounts,
    product_key      bigint not null references dw.dim_products,
    due_date_key     integer not null references dw.dim_dates,
    installment_no   integer not null check (installment_no > 0),
    due_date         date not null,
    amount_due       numeric(18,2) not null check (amount_due > 0),
    principal_part   numeric(18,2) not null check (principal_part >= 0),
    interest_part    numeric(18,2) not null check (interest_part >= 0),
    fee_part         numeric(18,2) not null check (fee_part >= 0),
    paid_amount      numeric(18,2) not null check (paid_amount >= 0),
    late_fee         numeric(18,2) not null check (late_fee >= 0),
    paid_at          timestamptz,
    status           text not null check (status in ('PAID', 'LATE', 'PARTIAL', 'MISSED')),
    days_late        integer not null check (days_late >= 0),
    batch_id         date not null,
    source_file      text not null,
    landed_at        timestamptz not null,
    record_hash      text not null,
    check (amount_due = principal_part + interest_part + fee_part),  -- loan arithmetic
    primary key (date_key, installment_id)
) partition by range (date_key);
create index if not exists fact_payments_loan on dw.fact_payments (loan_id);
create index if not exists fact_payments_status on dw.fact_payments (status);

-- fact_revenue. Grain: one row per day x branch x product, in EUR. Profit is a generated
-- column, so it always equals revenue - cost - provisions.
create table if not exists dw.fact_revenue (
    date_key         integer not null references dw.dim_dates,
    branch_code      text not null,
    product_key      bigint not null references dw.dim_products,
    product_code     text not null,
    interest_income  numeric(18,2) not null,
    fee_income       numeric(18,2) not null,
    other_income     numeric(18,2) not null,
    operating_cost   numeric(18,2) not null check (operating_cost >= 0),
    provisions       numeric(18,2) not null check (provisions >= 0),
    revenue          numeric(18,2) generated always as
        (interest_income + fee_income + other_income) stored,
    profit           numeric(18,2) generated always as
        (interest_income + fee_income + other_income - operating_cost - provisions) stored,
    batch_id         date not null,
    source_file      text not null,
    landed_at        timestamptz not null,
    record_hash      text not null,
    primary key (date_key, branch_code, product_key)
);
create index if not exists fact_revenue_batch on dw.fact_revenue (batch_id);
