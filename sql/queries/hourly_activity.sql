-- Postings per hour of the day (UTC) and the share that are card-not-present.
select extract(hour from f.posted_at at time zone 'UTC')::int as hour_utc,
       count(*) as postings,
       round(100.0 * count(*) filter (where ch.is_card_not_present) / count(*), 1) as cnp_pct,
       count(*) filter (where f.is_fraud_flagged) as fraud_alerts
from analyst.fact_transactions f
join analyst.dim_channels ch using (channel_key)
where f.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int
group by 1
order by 1
