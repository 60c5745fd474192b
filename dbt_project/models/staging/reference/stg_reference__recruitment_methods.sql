with

source as (

    select * from {{ ref('recruitment_methods') }}

),

final as (

    select
        code as recruitment_method_code,
        label_en,
        label_sw,
        htcds_value

    from source

)

select * from final
