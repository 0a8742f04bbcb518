-- Loan portfolio by product: applications, approval rate, outstanding, average rate, defaults.
select p.product_name,
       count(*) as applications,
       round(100.0 * count(*) filter (where l.decision = 'APPROVED')
             / nullif(count(*) filter (where l.decision <> 'PENDING'), 0), 1) as approval_pct,
       sum(l.outstanding_principal) as outstanding_eur,
       round(avg(l.annual_rate) filter (where l.decision = 'APPROVED'), 4) as avg_rate,
       count(*) filter (where l.status = 'DEFAULTED') as defaulted
from analyst.fact_loans l
join analyst.dim_products p using (product_key)
group by p.product_name
order by outstanding_eur desc, p.product_name
