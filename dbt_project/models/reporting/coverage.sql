-- What each year's figures rest on: organisations, files, route rows and periods in force, and the total
-- of cases (withheld, null, when it lies in 1..k-1). Counts of organisations and files are not case counts.
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

cells as (

    select
        report_year,
        cast(count(distinct organisation_code) as integer) as organisations,
        cast(count(distinct submission_id) as integer) as submissions,
        cast(count(*) as integer) as route_records,
        sum(cases_estimated) as cell_cases,
        cast(count(distinct reporting_period) as integer) as periods

    from route_reports
    group by report_year

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=['report_year']) }}

),

final as (

    select
        report_year,
        organisations,
        submissions,
        route_records,
        cast(cases as integer) as cases_total,
        periods

    from suppressed

)

select * from final
