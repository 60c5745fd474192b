with

source as (

    select * from {{ ref('countries') }}

),

final as (

    select
        country_code,
        alpha3_code,
        iso_name,
        country_name

    from source

)

select * from final
