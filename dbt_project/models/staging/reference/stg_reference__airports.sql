with

source as (

    select * from {{ ref('airports') }}

),

final as (

    select
        iata_code,
        icao_code,
        airport_name,
        city,
        country as country_code

    from source

)

select * from final
