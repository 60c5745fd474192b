with

source as (

    select * from {{ ref('means_of_control') }}

),

final as (

    select
        code as means_of_control_code,
        label_en,
        label_sw,
        htcds_value,
        ctdc_rollup

    from source

)

select * from final
