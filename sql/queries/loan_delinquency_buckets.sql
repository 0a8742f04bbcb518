-- Disbursed loans by delinquency bucket (days past due) as of their latest snapshot.
select delinquency_bucket, count(*) as loans, sum(outstanding_principal) as outstanding_eur,
       round(100.0 * count(*) / sum(count(*)) over (), 2) as share_pct
from analyst.fact_loans
where disbursement_date_key <> -1 and status in ('ACTIVE', 'DEFAULTED')
group by delinquency_bucket
order by min(days_past_due)
