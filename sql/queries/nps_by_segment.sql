-- Net promoter score and average CSAT by client segment (the segment at the time of the survey).
select c.segment,
       count(*) as responses,
       round(100.0 * (count(*) filter (where s.nps_category = 'PROMOTER')
                    - count(*) filter (where s.nps_category = 'DETRACTOR')) / count(*), 1) as nps,
       round(avg(s.csat), 2) as avg_csat,
       count(*) filter (where s.is_complaint) as complaints
from analyst.dim_satisfaction s
join analyst.dim_clients c using (client_key)
where s.date_key <= to_char(%(date)s::date, 'YYYYMMDD')::int
group by c.segment
order by c.segment
