with

codes as (

    select * from {{ ref('stg_reference__transport_modes') }}

),

final as (

    select
        transport_mode_code,
        label_en,
        label_sw

    from codes

)

select * from final
