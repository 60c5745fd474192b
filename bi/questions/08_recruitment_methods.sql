-- Cases by recruitment method. Whether it adds up to the total: the table's description (put it in the card's).
-- Variable {{year}}: Number, optional.
select
    report_year,
    recruitment_method,
    label_en,
    label_sw,
    cases,
    coalesce(to_char(cases, 'FM999,999,999'), 'withheld') as cases_shown
from reporting.cases_by_recruitment_method
where true
    [[and report_year = {{year}}]]
order by report_year desc, cases desc nulls last, recruitment_method
