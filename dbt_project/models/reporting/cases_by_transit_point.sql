-- Non-additive: "cases on routes passing through X". A route row counts once for each distinct transit
-- point of its route, so the cells of a year do not add up to the year's total; only primary suppression.
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

transit_points as (

    select * from {{ ref('bridge_route_transit_points') }}

),

locations as (

    select * from {{ ref('dim_location') }}

),

-- A route may pass the same place twice: its distinct places first, so each route row meets each once.
route_places as (

    select distinct
        route_key,
        location_code

    from transit_points

),

route_report_transit_points as (

    select
        route_reports.report_year,
        route_reports.cases_estimated,
        route_places.location_code

    from route_reports
    inner join route_places
        on route_reports.route_key = route_places.route_key

),

cells as (

    select
        route_report_transit_points.report_year,
        locations.location_code as transit_code,
        locations.location_name as transit_name,
        sum(route_report_transit_points.cases_estimated) as cell_cases

    from route_report_transit_points
    inner join locations
        on route_report_transit_points.location_code = locations.location_code
    group by 1, 2, 3

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=['transit_code']) }}

),

final as (

    select
        report_year,
        transit_code,
        transit_name,
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
