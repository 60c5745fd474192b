-- Cases by former province of origin. Whether it adds up to the total: the table's description (put it in the card's).
-- Variable {{year}}: Number, optional (all years if empty).
-- Visualisation: bar chart of cases by former_province (withheld provinces have no bar; see cases_shown).
select
    report_year,
    former_province,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown
from reporting.cases_by_province
where true
    [[and report_year = {{year}}]]
order by report_year desc, cases desc nulls last, former_province
