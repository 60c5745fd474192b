-- Cases by means of control. NOT ADDITIVE: a route counts once for each means it lists.
-- Variable {{year}}: Number, optional.
select
    report_year,
    means_of_control,
    label_en,
    label_sw,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown
from reporting.cases_by_means_of_control
where true
    [[and report_year = {{year}}]]
order by report_year desc, cases desc nulls last, means_of_control
