with

source as (

    select * from {{ source('ops', 'submissions') }}

),

final as (

    select
        submission_id,
        organisation_code,
        received_at,
        coalesce(delivery_seq, submission_id) as delivery_seq,
        status as submission_status,
        status in ('accepted', 'accepted_with_errors') as is_accepted,
        rows_read,
        rows_loaded,
        rows_quarantined

    from source

)

select * from final
