-- Cases by county of origin, with the former province for grouping.
-- Whether it adds up to the total: the table's description (put it in the card's).
-- Variable {{year}}: Number, optional. Visualisation: row chart of cases by county_name, series former_province.
select
    report_year,
    county_code,
    county_name,
    former_province,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown
from reporting.cases_by_origin_county
where true
    [[and report_year = {{year}}]]
order by report_year desc, cases desc nulls last, county_code
