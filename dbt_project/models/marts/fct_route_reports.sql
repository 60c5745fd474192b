-- depends_on: {{ ref('dim_organisation') }}
-- depends_on: {{ ref('dim_period') }}
-- depends_on: {{ ref('dim_route') }}
-- depends_on: {{ ref('dim_location') }}
-- depends_on: {{ ref('dim_exploitation_type') }}
{{ config(post_hook=[
    "{{ primary_key_after_load('route_report_key') }}",
    "{{ foreign_key_after_load('fct_route_reports_organisation_fkey', 'organisation_code', 'dim_organisation', 'organisation_code') }}",
    "{{ foreign_key_after_load('fct_route_reports_period_fkey', 'reporting_period', 'dim_period', 'reporting_period') }}",
    "{{ foreign_key_after_load('fct_route_reports_route_fkey', 'route_key', 'dim_route', 'route_key') }}",
    "{{ foreign_key_after_load('fct_route_reports_origin_fkey', 'origin_location_code', 'dim_location', 'location_code') }}",
    "{{ foreign_key_after_load('fct_route_reports_destination_fkey', 'destination_location_code', 'dim_location', 'location_code') }}",
    "{{ foreign_key_after_load('fct_route_reports_exploitation_type_fkey', 'exploitation_type_code', 'dim_exploitation_type', 'exploitation_type_code') }}",
]) }}

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
        {{ period_grain('reporting_period') }} as period_grain,
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
