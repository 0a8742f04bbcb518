-- Client master changes that took effect on the day (new SCD2 versions), by new segment.
select v.segment, count(*) as new_versions,
       count(*) filter (where p.segment is distinct from v.segment) as segment_changes,
       -- streets are redacted for analysts: a move is a new postal code or city
       count(*) filter (where (p.postal_code, p.city) is distinct from (v.postal_code, v.city))
           as moves,
       count(*) filter (where p.risk_rating is distinct from v.risk_rating) as risk_changes
from analyst.dim_clients v
join analyst.dim_clients p on p.client_id = v.client_id and p.valid_to = v.valid_from
where v.valid_from = %(date)s::date
group by v.segment
order by v.segment
