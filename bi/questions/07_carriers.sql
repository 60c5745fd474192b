-- Cases on routes involving each airline. Whether it adds up to the total: the table's description (put it
-- in the card's).
-- Variable {{year}}: Number, optional.
select
    report_year,
    carrier_code,
    carrier_name,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown
from reporting.cases_by_carrier
where true
    [[and report_year = {{year}}]]
order by report_year desc, cases desc nulls last, carrier_code
