-- Every place a route can name, under its typed code (docs/contract.md §3), from the code lists:
-- counties (county:NNN), countries (country:XX), airports (airport:IATA) and border points (border:Name).
with

counties as (

    select * from {{ ref('stg_reference__counties') }}

),

countries as (

    select * from {{ ref('stg_reference__countries') }}

),

airports as (

    select * from {{ ref('stg_reference__airports') }}

),

border_points as (

    select * from {{ ref('stg_reference__border_points') }}

),

county_locations as (

    select
        'county:' || counties.county_code as location_code,
        'county' as location_type,
        counties.county_name || ' County' as location_name,
        counties.county_name as place_name,
        'KE' as country_code,
        counties.county_code,
        counties.former_province,
        cast(null as text) as iata_code,
        cast(null as text) as icao_code

    from counties

),

country_locations as (

    select
        'country:' || countries.country_code as location_code,
        'country' as location_type,
        countries.country_name as location_name,
        countries.country_name as place_name,
        countries.country_code,
        cast(null as text) as county_code,
        cast(null as text) as former_province,
        cast(null as text) as iata_code,
        cast(null as text) as icao_code

    from countries

),

airport_locations as (

    select
        'airport:' || airports.iata_code as location_code,
        'airport' as location_type,
        airports.airport_name || ' (' || airports.iata_code || ')' as location_name,
        airports.airport_name as place_name,
        airports.country_code,
        cast(null as text) as county_code,
        cast(null as text) as former_province,
        airports.iata_code,
        airports.icao_code

    from airports

),

border_locations as (

    select
        'border:' || border_points.border_point as location_code,
        'border' as location_type,
        border_points.border_point || ' border point' as location_name,
        border_points.border_point as place_name,
        'KE' as country_code,
        border_points.county_code,
        counties.former_province,
        cast(null as text) as iata_code,
        cast(null as text) as icao_code

    from border_points
    left join counties
        on border_points.county_code = counties.county_code

),

unioned as (

    select * from county_locations
    union all
    select * from country_locations
    union all
    select * from airport_locations
    union all
    select * from border_locations

),

final as (

    select
        unioned.location_code,
        unioned.location_type,
        unioned.location_name,
        unioned.place_name,
        unioned.country_code,
        countries.country_name,
        unioned.county_code,
        unioned.former_province,
        unioned.iata_code,
        unioned.icao_code

    from unioned
    left join countries
        on unioned.country_code = countries.country_code

)

select * from final
