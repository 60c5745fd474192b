-- Where people were taken: cases by destination country (KE = trafficking inside Kenya).
-- Whether it adds up to the total: the table's description (put it in the card's).
-- Variable {{year}}: Number, optional. Visualisation: row chart, or a map on country_code (ISO alpha-2).
select
    report_year,
    country_code,
    country_name,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown
from reporting.cases_by_destination_country
where true
    [[and report_year = {{year}}]]
order by report_year desc, cases desc nulls last, country_code
