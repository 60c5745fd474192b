with

source as (

    select * from {{ source('raw', 'route_reports') }}

),

final as (

    select
        submission_id,
        row_number,
        organisation_code,
        reporting_period,
        period_start,
        period_end,
        cast(extract(year from period_start) as integer) as report_year,
        trim(origin_country) as origin_country_code,
        nullif(trim(origin_county), '') as origin_county_code,
        nullif(trim(transit_points), '') as transit_points,
        trim(destination_country) as destination_country_code,
        nullif(trim(destination_county), '') as destination_county_code,
        exploitation_type as exploitation_type_code,
        nullif(trim(transport_modes), '') as transport_modes,
        nullif(trim(carriers), '') as carriers,
        nullif(trim(recruitment_methods), '') as recruitment_methods,
        nullif(trim(means_of_control), '') as means_of_control,
        cases_estimated,
        female_cases,
        male_cases,
        child_cases,
        loaded_at

    from source

)

select * from final
