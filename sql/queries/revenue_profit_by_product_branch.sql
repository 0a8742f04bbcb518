-- Revenue and profit (EUR) of the day by product, across branches, with the best branch.
with lines as (
    select p.product_name, r.branch_code, r.revenue, r.profit
    from analyst.fact_revenue r
    join analyst.dim_products p using (product_key)
    where r.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int
)
select product_name, sum(revenue) as revenue_eur, sum(profit) as profit_eur,
       (array_agg(branch_code order by profit desc, branch_code))[1] as best_branch
from lines
group by product_name
order by profit_eur desc, product_name
