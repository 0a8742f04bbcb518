-- Account balances as of the end of a day (last posting on or before it), by currency.
with last_posting as (
    select distinct on (account_id) account_id, currency, balance_after
    from analyst.fact_transactions
    where date_key <= to_char(%(date)s::date, 'YYYYMMDD')::int and account_key <> -1
    order by account_id, posted_at desc, transaction_id desc
)
select currency, count(*) as accounts, sum(balance_after) as total_balance,
       count(*) filter (where balance_after < 0) as overdrawn
from last_posting
group by currency
order by currency
