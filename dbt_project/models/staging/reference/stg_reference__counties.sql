with

source as (

    select * from {{ ref('counties') }}

),

final as (

    select
        county_code,
        county_name,
        former_province

    from source

)

select * from final
