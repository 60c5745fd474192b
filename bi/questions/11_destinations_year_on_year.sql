-- Destination countries: this year against the year before. A change is given only where both years are
-- published; a withheld cell stays withheld (never read as zero). Variable {{year}}: Number, required.
with this_year as (
    select country_code, country_name, cases, suppressed
    from reporting.cases_by_destination_country
    where report_year = {{year}}
),
last_year as (
    select country_code, country_name, cases, suppressed
    from reporting.cases_by_destination_country
    where report_year = {{year}} - 1
)
select
    coalesce(t.country_code, l.country_code) as country_code,
    coalesce(t.country_name, l.country_name) as country_name,
    case when l.country_code is null then 'not reported' when l.suppressed then 'withheld'
         else to_char(l.cases, 'FM999,999,999') end as previous_year,
    case when t.country_code is null then 'not reported' when t.suppressed then 'withheld'
         else to_char(t.cases, 'FM999,999,999') end as this_year,
    case when not t.suppressed and not l.suppressed then t.cases - l.cases end as change
from this_year as t
full outer join last_year as l on l.country_code = t.country_code
order by t.cases desc nulls last, country_code
