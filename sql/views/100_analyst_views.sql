-- Friendly views for analysts: facts with their dimensions' names, current dimension rows.
-- Applied after the tables and the generated masked views of the `analyst` schema
-- (Warehouse.apply_ddl, bank_assets/io/warehouse/loader.py), replaced before every load: views
-- are definitions, not migrations. They read those masked views, so they show personal data
-- masked too (names as initials, IBANs masked).

-- (they lived in dw, where analysts no longer have any privilege)
drop view if exists dw.v_clients_current, dw.v_accounts_current, dw.v_transactions,
    dw.v_fraud_alerts, dw.v_loans, dw.v_revenue, dw.v_satisfaction;

create or replace view analyst.v_clients_current as
select client_key, client_id, first_name, last_name, segment, city, country, kyc_status,
       risk_rating, status, valid_from as version_since, version
from analyst.dim_clients
where is_current and client_key <> -1;

create or replace view analyst.v_accounts_current as
select a.account_key, a.account_id, a.iban, a.client_id, a.product_code, p.product_name,
       a.account_type, a.currency, a.branch_code, a.status, a.overdraft_limit,
       a.valid_from as version_since, a.version
from analyst.dim_accounts a
left join analyst.dim_products p on p.product_code = a.product_code
where a.is_current and a.account_key <> -1;

create or replace view analyst.v_transactions as
select f.date_key, d.full_date as business_date, f.transaction_id, f.posted_at,
       f.account_id, c.client_id, c.segment as client_segment, p.product_name,
       t.transaction_type, t.description as type_description, ch.channel,
       ch.is_card_not_present, f.direction, f.amount, f.currency, f.amount_eur,
       f.balance_after, f.status, m.merchant_name, m.mcc, m.mcc_description, f.country,
       f.transfer_id, f.fraud_score, f.is_fraud_flagged
from analyst.fact_transactions f
join analyst.dim_dates d on d.date_key = f.date_key
join analyst.dim_clients c on c.client_key = f.client_key
join analyst.dim_products p on p.product_key = f.product_key
join analyst.dim_transaction_types t on t.transaction_type_key = f.transaction_type_key
join analyst.dim_channels ch on ch.channel_key = f.channel_key
join analyst.dim_merchants m on m.merchant_key = f.merchant_key;

create or replace view analyst.v_fraud_alerts as
select a.alert_id, d.full_date as business_date, a.transaction_id, a.posted_at,
       c.client_id, t.transaction_type, ch.channel, a.rule_id, a.score, a.fraud_type,
       a.case_status, a.amount_at_risk, a.amount_lost, a.amount_recovered
from analyst.fact_fraudes a
join analyst.dim_dates d on d.date_key = a.date_key
join analyst.dim_clients c on c.client_key = a.client_key
join analyst.dim_transaction_types t on t.transaction_type_key = a.transaction_type_key
join analyst.dim_channels ch on ch.channel_key = a.channel_key;

create or replace view analyst.v_loans as
select l.loan_id, l.client_id, c.segment as client_segment, p.product_name, l.branch_code,
       l.decision, l.status, l.principal, l.annual_rate, l.term_months, l.installment,
       l.outstanding_principal, l.days_past_due, l.delinquency_bucket,
       applied.full_date as applied_on, disbursed.full_date as disbursed_on,
       snapshot.full_date as as_of
from analyst.fact_loans l
join analyst.dim_clients c on c.client_key = l.client_key
join analyst.dim_products p on p.product_key = l.product_key
join analyst.dim_dates applied on applied.date_key = l.application_date_key
join analyst.dim_dates disbursed on disbursed.date_key = l.disbursement_date_key
join analyst.dim_dates snapshot on snapshot.date_key = l.date_key;

create or replace view analyst.v_revenue as
select d.full_date as business_date, r.branch_code, p.product_name, p.category,
       r.interest_income, r.fee_income, r.other_income, r.revenue, r.operating_cost,
       r.provisions, r.profit
from analyst.fact_revenue r
join analyst.dim_dates d on d.date_key = r.date_key
join analyst.dim_products p on p.product_key = r.product_key;

create or replace view analyst.v_satisfaction as
select s.survey_id, d.full_date as business_date, s.client_id, c.segment as client_segment,
       p.product_name, s.channel, s.service, s.csat, s.nps, s.nps_category, s.is_complaint
from analyst.dim_satisfaction s
join analyst.dim_dates d on d.date_key = s.date_key
join analyst.dim_clients c on c.client_key = s.client_key
join analyst.dim_products p on p.product_key = s.product_key;

-- Alerts (dq.alerts: failed runs, failed blocking checks, rule warnings), as `bank-assets
-- alerts` lists them: the day each is about (a rule's or check's own day, from its subject,
-- else the run's first day), and whether the webhook got it.
create or replace view analyst.v_alerts as
select alert_id, raised_at, kind, severity,
       coalesce(substring(subject from '[0-9]{4}-[0-9]{2}-[0-9]{2}$'), partition_key) as day,
       message, run_id, coalesce(webhook_delivery, 'no webhook') as webhook
from analyst.dq_alerts;
