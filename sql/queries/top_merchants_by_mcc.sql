-- Top merchant categories (ISO 18245 MCC) of the day by posted card spend, with their top merchant.
with spend as (
    select m.mcc, m.mcc_description, m.merchant_name, sum(f.amount_eur) as eur, count(*) as n
    from analyst.fact_transactions f
    join analyst.dim_merchants m using (merchant_key)
    where f.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int
      and f.status = 'POSTED' and f.direction = 'DEBIT' and f.merchant_key <> -1
    group by m.mcc, m.mcc_description, m.merchant_name
)
select mcc, mcc_description, sum(n) as payments, sum(eur) as spend_eur,
       (array_agg(merchant_name order by eur desc, merchant_name))[1] as top_merchant
from spend
group by mcc, mcc_description
order by spend_eur desc, mcc
limit 10
