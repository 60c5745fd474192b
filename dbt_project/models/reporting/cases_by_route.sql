-- Additive: cases of route rows in force per year and route (origin, ordered transit points, destination).
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

routes as (

    select * from {{ ref('dim_route') }}

),

route_cases as (

    select
        report_year,
        route_key,
        sum(cases_estimated) as cell_cases

    from route_reports
    group by report_year, route_key

),

cells as (

    select
        route_cases.report_year,
        routes.route_key,
        routes.origin_location_code as origin_code,
        routes.transit_codes,
        routes.destination_location_code as destination_code,
        routes.route_label,
        route_cases.cell_cases

    from route_cases
    inner join routes
        on route_cases.route_key = routes.route_key

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
