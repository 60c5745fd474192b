-- Additive: cases of route rows in force per year and route (origin, ordered transit points, destination).
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

routes as (

    select * from {{ ref('dim_route') }}

),

cells as (

    select
        route_reports.report_year,
        routes.route_key,
        routes.origin_location_code as origin_code,
        routes.transit_codes,
        routes.destination_location_code as destination_code,
        routes.route_label,
        sum(route_reports.cases_estimated) as cell_cases

    from route_reports
    inner join routes
        on route_reports.route_key = routes.route_key
    group by 1, 2, 3, 4, 5, 6

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=['route_label', 'route_key'], groups=[['report_year']]) }}

),

final as (

    select
        report_year,
        origin_code,
        transit_codes,
        destination_code,
        route_label,
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
