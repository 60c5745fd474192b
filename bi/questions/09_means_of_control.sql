-- Cases by means of control. Whether it adds up to the total: the table's description (put it in the card's).
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
