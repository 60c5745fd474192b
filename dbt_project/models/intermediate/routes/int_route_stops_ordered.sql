-- Every distinct route in force as its ordered stops: the origin (position 0), the transit points in the
-- order given (1..n) and the destination (n + 1).
-- A table: it is small (one row per stop of a distinct route), but as a view every reader and test would
-- find the distinct routes among all the route rows again.
{{ config(materialized='table') }}

with

route_reports as (

    select * from {{ ref('int_route_reports_in_force') }}

),

routes as (

    select distinct
        route_key,
        origin_location_code,
        transit_codes,
        destination_location_code

    from route_reports

),

transit_stops as (

    select
        routes.route_key,
        stops.location_code,
        cast(stops.transit_position as integer) as stop_position

    from routes
    cross join
        lateral
        unnest(string_to_array(nullif(routes.transit_codes, ''), ';'))
        with ordinality as stops (location_code, transit_position)

),

transit_counts as (

    select
        routes.route_key,
        cast(count(transit_stops.location_code) as integer) as transit_count

    from routes
    left join transit_stops
        on routes.route_key = transit_stops.route_key
    group by routes.route_key

),

stops as (

    select
        route_key,
        0 as stop_position,
        'origin' as stop_role,
        origin_location_code as location_code
    from routes

    union all

    select
        route_key,
        stop_position,
        'transit' as stop_role,
        location_code
    from transit_stops

    union all

    select
        routes.route_key,
        transit_counts.transit_count + 1 as stop_position,
        'destination' as stop_role,
        routes.destination_location_code as location_code
    from routes
    inner join transit_counts
        on routes.route_key = transit_counts.route_key

),

final as (

    select
        {{ surrogate_key(['route_key', 'stop_position']) }} as route_stop_key,
        route_key,
        stop_position,
        stop_role,
        location_code,
        lag(location_code) over (partition by route_key order by stop_position) as previous_location_code,
        lead(location_code) over (partition by route_key order by stop_position) as next_location_code

    from stops

)

select * from final
