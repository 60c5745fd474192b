-- Cases on routes involving each airline. NOT ADDITIVE: a route counts once for each airline it lists, so
-- these figures do not add up to the total. Put that sentence in the card's description.
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
