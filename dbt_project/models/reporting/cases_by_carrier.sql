-- Non-additive: "cases on routes involving X". A route row counts once for each distinct carrier it
-- lists, so the cells of a year do not add up to the year's total; only primary suppression applies.
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

bridge as (

    select * from {{ ref('bridge_route_report_carriers') }}

),

codes as (

    select * from {{ ref('dim_carrier') }}

),

cells as (

    select
        route_reports.report_year,
        codes.carrier_code,
        codes.carrier_name,
        sum(route_reports.cases_estimated) as cell_cases

    from route_reports
    inner join bridge
        on route_reports.route_report_key = bridge.route_report_key
    inner join codes
        on bridge.carrier_code = codes.carrier_code
    group by 1, 2, 3

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=['carrier_code']) }}

),

final as (

    select
        report_year,
        carrier_code,
        carrier_name,
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
