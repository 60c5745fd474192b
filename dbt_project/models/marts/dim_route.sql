with

routes as (

    select * from {{ ref('int_routes_labelled') }}

),

final as (

    select
        route_key,
        origin_location_code,
        transit_codes,
        destination_location_code,
        transit_count,
        route_label,
        origin_location_code like 'county:%' and destination_location_code like 'county:%' as is_domestic,
        transit_count = 0 as is_direct

    from routes

)

select * from final
