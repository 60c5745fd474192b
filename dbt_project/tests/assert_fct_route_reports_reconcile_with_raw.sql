-- The fact holds exactly the rows in force, computed here independently from raw and the ledger: a loaded
-- row is in force unless a later delivered (delivery_seq, then submission_id) accepted submission of the same
-- organisation lists the same period.
-- Returns the rows (or totals) that differ.
with

raw_rows as (

    select * from {{ source('raw', 'route_reports') }}

),

submissions as (

    select * from {{ source('ops', 'submissions') }}

),

submission_periods as (

    select * from {{ source('ops', 'submission_periods') }}

),

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

accepted_periods as (

    select
        submission_periods.*,
        submissions.organisation_code as submitter,
        coalesce(submissions.delivery_seq, submissions.submission_id) as delivery_seq
    from submission_periods
    inner join submissions
        on submission_periods.submission_id = submissions.submission_id
    where submissions.status in ('accepted', 'accepted_with_errors')

),

expected as (

    select
        raw_rows.submission_id,
        raw_rows.row_number,
        raw_rows.cases_estimated
    from raw_rows
    inner join accepted_periods
        on raw_rows.submission_id = accepted_periods.submission_id
            and raw_rows.reporting_period = accepted_periods.reporting_period
    where not exists (
            select 1
            from accepted_periods as later
            where later.submitter = accepted_periods.submitter
                and later.reporting_period = accepted_periods.reporting_period
                and (later.delivery_seq, later.submission_id)
                > (accepted_periods.delivery_seq, accepted_periods.submission_id)
        )

),

row_differences as (

    select
        coalesce(expected.submission_id, route_reports.submission_id) as submission_id,
        coalesce(expected.row_number, route_reports.row_number) as row_number,
        expected.cases_estimated as expected_cases,
        route_reports.cases_estimated as actual_cases
    from expected
    full outer join route_reports
        on expected.submission_id = route_reports.submission_id
            and expected.row_number = route_reports.row_number
    where expected.submission_id is null
        or route_reports.submission_id is null
        or expected.cases_estimated <> route_reports.cases_estimated

),

total_differences as (

    select
        cast(null as bigint) as submission_id,
        cast(null as integer) as row_number,
        (select coalesce(sum(cases_estimated), 0) from expected) as expected_cases,
        (select coalesce(sum(cases_estimated), 0) from route_reports) as actual_cases

),

final as (

    select * from row_differences
    union all
    select * from total_differences
    where expected_cases <> actual_cases

)

select * from final
