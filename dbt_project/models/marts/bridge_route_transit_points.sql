-- The ordered transit points of each route, as legs: where the traveller came from and went next.
with

route_stops as (

    select * from {{ ref('int_route_stops_ordered') }}

),

final as (

    select
        route_stop_key as route_transit_point_key,
        route_key,
        stop_position as transit_position,
        location_code,
        previous_location_code,
        next_location_code

    from route_stops
    where stop_role = 'transit'

)

select * from final
