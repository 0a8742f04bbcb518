-- Client master changes that took effect on the day (new SCD2 versions), by new segment.
select v.segment, count(*) as new_versions,
       count(*) filter (where p.segment is distinct from v.segment) as segment_changes,
       count(*) filter (where p.address_line is distinct from v.address_line) as moves,
       count(*) filter (where p.risk_rating is distinct from v.risk_rating) as risk_changes
from dw.dim_clients v
join dw.dim_clients p on p.client_id = v.client_id and p.valid_to = v.valid_from
where v.valid_from = %(date)s::date
group by v.segment
order by v.segment
