-- Top routes of a year (origin → transit points → destination). Whether it adds up to the total: the
-- table's description (put it in the card's).
-- Routes under k are published only as one "other routes" line per origin
-- (destination_code 'other'), which is not a route and is left out here. Variable {{year}}: Number,
-- required (e.g. 2025).
select
    route_label,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown,
    origin_code,
    transit_codes,
    destination_code
from reporting.cases_by_route
where report_year = {{year}}
    and destination_code <> 'other'
order by cases desc nulls last, route_label
limit 25
