{{ config(post_hook="{{ primary_key_after_load('route_report_key') }}") }}

with

route_reports as (

    select * from {{ ref('int_route_reports_in_force') }}

),

final as (

    select
        route_report_key,
        submission_id,
        row_number,
        organisation_code,
        reporting_period,
        report_year,
        period_start,
        period_end,
        route_key,
        origin_location_code,
        destination_location_code,
        exploitation_type_code,
        cases_estimated,
        female_cases,
        male_cases,
        child_cases,
        loaded_at

    from route_reports

)

select * from final
