-- Posted flows by currency, in the currency and in EUR at the day's reference rate.
select cur.currency_code, cur.currency_name, count(*) as postings,
       sum(f.signed_amount) as net_amount, sum(f.amount_eur) as gross_eur,
       min(f.fx_rate) as fx_rate
from analyst.fact_transactions f
join analyst.dim_currencies cur using (currency_key)
where f.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int and f.status = 'POSTED'
group by cur.currency_code, cur.currency_name
order by gross_eur desc, cur.currency_code
