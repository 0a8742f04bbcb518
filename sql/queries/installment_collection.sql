-- Installments settled on the day by outcome: amounts due, collected and late fees.
select status, count(*) as installments, sum(amount_due) as due_eur,
       sum(paid_amount) as collected_eur, sum(late_fee) as late_fees_eur,
       round(avg(days_late), 1) as avg_days_late
from analyst.fact_payments
where date_key = to_char(%(date)s::date, 'YYYYMMDD')::int
group by status
order by status
