-- Cases on routes through each transit point (airports, border points, counties, countries).
-- Whether it adds up to the total: the table's description (put it in the card's). Variable {{year}}: Number, optional.
select
    report_year,
    transit_code,
    transit_name,
    split_part(transit_code, ':', 1) as transit_kind,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown
from reporting.cases_by_transit_point
where true
    [[and report_year = {{year}}]]
order by report_year desc, cases desc nulls last, transit_code
