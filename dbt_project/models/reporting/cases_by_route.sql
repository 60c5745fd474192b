-- Additive: cases of route rows in force per year and route (origin, ordered transit points, destination).
-- Routes with fewer than k cases of a year are not listed: each origin's remaining routes are one line,
-- destination `other`, so where a small route went and what it passed is never published (the route table
-- links every other table; njia.disclosure measured this shape against listing them withheld, and it
-- needs a third of the further withheld cases). With k = 1 every route is listed.
{%- set k = njia_min_cell() %}
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

routes as (

    select * from {{ ref('dim_route') }}

),

locations as (

    select * from {{ ref('dim_location') }}

),

route_cases as (

    select
        report_year,
        route_key,
        sum(cases_estimated) as cell_cases

    from route_reports
    group by 1, 2

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
    where route_cases.cell_cases >= {{ k }}

),

other_routes as (

    select
        route_cases.report_year,
        'other:' || routes.origin_location_code as route_key,
        routes.origin_location_code as origin_code,
        '' as transit_codes,
        'other' as destination_code,
        origins.location_name || ' → other routes' as route_label,
        sum(route_cases.cell_cases) as cell_cases

    from route_cases
    inner join routes
        on route_cases.route_key = routes.route_key
    inner join locations as origins
        on routes.origin_location_code = origins.location_code
    where route_cases.cell_cases < {{ k }}
    group by 1, 2, 3, 4, 5, 6

),

published_lines as (

    select * from cells
    union all
    select * from other_routes

),

suppressed as (

    {{ suppress_small_cells('published_lines', tie_breakers=['route_label', 'route_key'], groups=[['report_year']]) }}

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
