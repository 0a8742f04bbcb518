-- Client 360: the 20 most active clients of the day with segment, accounts, loans and last NPS.
with activity as (
    select c.client_id, count(*) as postings, sum(f.amount_eur) as eur
    from analyst.fact_transactions f
    join analyst.dim_clients c using (client_key)
    where f.date_key = to_char(%(date)s::date, 'YYYYMMDD')::int and f.status = 'POSTED'
      and f.client_key <> -1
    group by c.client_id
)
select a.client_id, cur.segment, cur.risk_rating, a.postings, a.eur as amount_eur,
       (select count(*) from analyst.v_accounts_current x where x.client_id = a.client_id) as accounts,
       (select coalesce(sum(outstanding_principal), 0) from analyst.fact_loans l
         where l.client_id = a.client_id) as loans_outstanding,
       (select s.nps from analyst.dim_satisfaction s where s.client_id = a.client_id
         order by s.responded_at desc limit 1) as last_nps
from activity a
join analyst.v_clients_current cur using (client_id)
order by a.eur desc, a.client_id
limit 20
