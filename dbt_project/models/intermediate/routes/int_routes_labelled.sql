-- One row per distinct route in force: its codes and a readable label joining the stops' display names
-- with ' → ' in order (docs/contract.md §3).
with

route_stops as (

    select * from {{ ref('int_route_stops_ordered') }}

),

locations as (

    select * from {{ ref('int_locations_unioned') }}

),

named_stops as (

    select
        route_stops.route_key,
        route_stops.stop_position,
        route_stops.stop_role,
        route_stops.location_code,
        coalesce(locations.location_name, route_stops.location_code) as location_name

    from route_stops
    left join locations
        on route_stops.location_code = locations.location_code

),

final as (

    select
        route_key,
        max(location_code) filter (where stop_role = 'origin') as origin_location_code,
        coalesce(
            string_agg(location_code, ';' order by stop_position) filter (where stop_role = 'transit'), ''
        ) as transit_codes,
        max(location_code) filter (where stop_role = 'destination') as destination_location_code,
        cast(count(*) filter (where stop_role = 'transit') as integer) as transit_count,
        string_agg(location_name, ' → ' order by stop_position) as route_label

    from named_stops
    group by route_key

)

select * from final
