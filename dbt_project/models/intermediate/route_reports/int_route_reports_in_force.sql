-- One row per route row in force, with its typed location codes and route key (docs/contract.md §3).
-- A table, not a view: the fact, the bridges and the routes all read it.
{{ config(materialized='table') }}

with

route_reports as (

    select * from {{ ref('stg_njia__route_reports') }}

),

periods_in_force as (

    select * from {{ ref('int_reporting_periods_in_force') }}

),

in_force as (

    select route_reports.*

    from route_reports
    inner join periods_in_force
        on route_reports.submission_id = periods_in_force.submission_id
            and route_reports.reporting_period = periods_in_force.reporting_period

),

coded as (

    select
        submission_id,
        row_number,
        organisation_code,
        reporting_period,
        period_start,
        period_end,
        report_year,
        {{ location_code('origin_country_code', 'origin_county_code') }} as origin_location_code,
        coalesce({{ clean_list('transit_points') }}, '') as transit_codes,
        {{ location_code('destination_country_code', 'destination_county_code') }} as destination_location_code,
        exploitation_type_code,
        {{ clean_list('transport_modes') }} as transport_modes,
        {{ clean_list('carriers') }} as carriers,
        {{ clean_list('recruitment_methods') }} as recruitment_methods,
        {{ clean_list('means_of_control') }} as means_of_control,
        cases_estimated,
        female_cases,
        male_cases,
        child_cases,
        loaded_at

    from in_force

),

final as (

    select
        {{ surrogate_key(['submission_id', 'row_number']) }} as route_report_key,
        {{ surrogate_key(['origin_location_code', 'transit_codes', 'destination_location_code']) }} as route_key,
        submission_id,
        row_number,
        organisation_code,
        reporting_period,
        period_start,
        period_end,
        report_year,
        origin_location_code,
        transit_codes,
        destination_location_code,
        exploitation_type_code,
        {{ with_carrier_mode('transport_modes', 'carriers') }} as transport_modes,
        carriers,
        recruitment_methods,
        means_of_control,
        cases_estimated,
        female_cases,
        male_cases,
        child_cases,
        loaded_at

    from coded

)

select * from final
