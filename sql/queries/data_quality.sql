-- Data quality of the day per table: rules checked, passed, failed by severity, rows quarantined
select table_name as "table",
       count(*) as rules,
       count(*) filter (where passed) as passed,
       count(*) filter (where not passed and severity = 'fatal') as fatal_failed,
       count(*) filter (where not passed and severity = 'error') as error_failed,
       count(*) filter (where not passed and severity = 'warn') as warn_failed,
       max(checked) as rows_checked,
       max(quarantined) filter (where rule_id = 'rows_accounted_for') as quarantined,
       string_agg(rule_id, ', ' order by rule_id) filter (where not passed) as failing
from analyst.dq_results
where batch_id = %(date)s
group by table_name
order by table_name;
