-- Fraud alerts of the day by transaction type: alert rate and amounts at risk and lost (EUR).
select t.transaction_type,
       count(*) as postings,
       count(a.alert_id) as alerts,
       round(100.0 * count(a.alert_id) / count(*), 3) as alert_rate_pct,
       coalesce(sum(a.amount_at_risk), 0) as at_risk_eur,
       coalesce(sum(a.amount_lost), 0) as lost_eur
from analyst.fact_transactions f
join analyst.dim_transaction_types t using (transaction_type_key)
left join analyst.fact_fraudes a on a.date_key = f.date_key and a.transaction_id = f.transaction_id
where f.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int
group by t.transaction_type
order by alerts desc, t.transaction_type
