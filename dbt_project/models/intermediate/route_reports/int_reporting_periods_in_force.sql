-- Rows in force (docs/contract.md §5): for each (organisation, reporting period), the latest delivered (highest
-- delivery_seq, fixed at first discovery; not the commit order, which retries and parallel runners change)
-- accepted or accepted_with_errors submission that lists that period in ops.submission_periods.
-- The periods table is the authority: a later accepted file that lists a period replaces it even where
-- none of its rows for that period survived validation.
with

submissions as (

    select * from {{ ref('stg_njia__submissions') }}

),

submission_periods as (

    select * from {{ ref('stg_njia__submission_periods') }}

),

accepted_periods as (

    select
        submissions.organisation_code,
        submission_periods.reporting_period,
        submission_periods.period_start,
        submission_periods.period_end,
        submission_periods.submission_id,
        submissions.delivery_seq

    from submission_periods
    inner join submissions
        on submission_periods.submission_id = submissions.submission_id
    where submissions.is_accepted

),

ranked as (

    select
        accepted_periods.*,
        row_number() over (
            partition by accepted_periods.organisation_code, accepted_periods.reporting_period
            order by accepted_periods.delivery_seq desc, accepted_periods.submission_id desc
        ) as recency_rank,
        count(*) over (
            partition by accepted_periods.organisation_code, accepted_periods.reporting_period
        ) as accepted_submission_count

    from accepted_periods

),

final as (

    select
        {{ surrogate_key(['organisation_code', 'reporting_period']) }} as organisation_period_key,
        organisation_code,
        reporting_period,
        period_start,
        period_end,
        cast(extract(year from period_start) as integer) as report_year,
        submission_id,
        cast(accepted_submission_count - 1 as integer) as superseded_submission_count

    from ranked
    where recency_rank = 1

)

select * from final
