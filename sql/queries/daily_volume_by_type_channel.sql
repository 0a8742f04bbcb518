-- Daily volume and amount (EUR) by transaction type and channel, posted and declined.
select t.transaction_type, ch.channel,
       count(*) as postings,
       count(*) filter (where f.status = 'DECLINED') as declined,
       sum(f.amount_eur) filter (where f.status = 'POSTED') as posted_eur
from analyst.fact_transactions f
join analyst.dim_transaction_types t using (transaction_type_key)
join analyst.dim_channels ch using (channel_key)
where f.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int
group by t.transaction_type, ch.channel
order by posted_eur desc nulls last, t.transaction_type, ch.channel
