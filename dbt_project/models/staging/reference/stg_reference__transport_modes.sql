with

source as (

    select * from {{ ref('transport_modes') }}

),

final as (

    select
        code as transport_mode_code,
        label_en,
        label_sw

    from source

)

select * from final
