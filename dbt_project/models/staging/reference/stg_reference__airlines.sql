with

source as (

    select * from {{ ref('airlines') }}

),

final as (

    select
        iata_code as carrier_code,
        icao_code,
        airline_name as carrier_name,
        home_country as home_country_code

    from source

)

select * from final
