-- Share of debits declined (insufficient funds) by channel.
select ch.channel, count(*) as debits,
       count(*) filter (where f.status = 'DECLINED') as declined,
       round(100.0 * count(*) filter (where f.status = 'DECLINED') / count(*), 2) as declined_pct
from analyst.fact_transactions f
join analyst.dim_channels ch using (channel_key)
where f.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int and f.direction = 'DEBIT'
group by ch.channel
order by declined_pct desc, ch.channel
