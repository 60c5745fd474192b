with

source as (

    select * from {{ source('ops', 'submission_periods') }}

),

final as (

    select
        submission_id,
        organisation_code,
        reporting_period,
        period_start,
        period_end

    from source

)

select * from final
