with

source as (

    select * from {{ ref('border_points') }}

),

final as (

    select
        border_point,
        county_code,
        neighbour_country as neighbour_country_code

    from source

)

select * from final
