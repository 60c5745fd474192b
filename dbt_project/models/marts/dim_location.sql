with

locations as (

    select * from {{ ref('int_locations_unioned') }}

),

final as (

    select
        location_code,
        location_type,
        location_name,
        place_name,
        country_code,
        country_name,
        county_code,
        former_province,
        iata_code,
        icao_code

    from locations

)

select * from final
