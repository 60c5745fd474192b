with

codes as (

    select * from {{ ref('stg_reference__recruitment_methods') }}

),

final as (

    select
        recruitment_method_code,
        label_en,
        label_sw,
        htcds_value

    from codes

)

select * from final
