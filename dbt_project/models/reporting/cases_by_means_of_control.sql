-- Non-additive: "cases on routes involving X". A route row counts once for each distinct means of control it
-- lists, so the cells of a year do not add up to the year's total; only primary suppression applies.
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

bridge as (

    select * from {{ ref('bridge_route_report_means_of_control') }}

),

codes as (

    select * from {{ ref('dim_means_of_control') }}

),

cells as (

    select
        route_reports.report_year,
        codes.means_of_control_code as means_of_control,
        codes.label_en,
        codes.label_sw,
        sum(route_reports.cases_estimated) as cell_cases

    from route_reports
    inner join bridge
        on route_reports.route_report_key = bridge.route_report_key
    inner join codes
        on bridge.means_of_control_code = codes.means_of_control_code
    group by 1, 2, 3, 4

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=['means_of_control']) }}

),

final as (

    select
        report_year,
        means_of_control,
        label_en,
        label_sw,
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
