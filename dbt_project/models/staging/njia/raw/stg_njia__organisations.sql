with

source as (

    select * from {{ source('raw', 'organisations') }}

),

final as (

    select
        organisation_code,
        organisation_name,
        nullif(trim(organisation_type), '') as organisation_type,
        nullif(trim(county_code), '') as county_code,
        active as is_active,
        loaded_at

    from source

)

select * from final
