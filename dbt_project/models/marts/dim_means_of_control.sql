with

codes as (

    select * from {{ ref('stg_reference__means_of_control') }}

),

final as (

    select
        means_of_control_code,
        label_en,
        label_sw,
        htcds_value,
        ctdc_rollup

    from codes

)

select * from final
