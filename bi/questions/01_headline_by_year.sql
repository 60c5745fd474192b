-- Headline figures per year: cases, organisations reporting, files, route records, reporting periods.
-- Visualisation: line or bar chart of cases_total by report_year; the table view shows "withheld" where
-- the year's total lies below the small-cell threshold.
select
    report_year,
    cases_total,
    coalesce(to_char(cases_total, 'FM999,999,999'), 'withheld') as cases_shown,
    organisations,
    submissions,
    route_records,
    periods
from reporting.coverage
order by report_year
