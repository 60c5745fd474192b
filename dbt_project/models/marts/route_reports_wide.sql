-- One row per route row in force with everything an analyst charts by, named: no joins needed.
-- Organisation-level like the fact (analysts only); no personal data (the fact holds none). Left joins:
-- the relationships tests on the fact gate publication, and a row must never vanish from the view.
{{ config(materialized='view') }}

with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

locations as (

    select * from {{ ref('dim_location') }}

),

routes as (

    select * from {{ ref('dim_route') }}

),

exploitation_types as (

    select * from {{ ref('dim_exploitation_type') }}

),

organisations as (

    select * from {{ ref('dim_organisation') }}

),

final as (

    select
        route_reports.route_report_key,
        route_reports.report_year,
        make_date(route_reports.report_year, 1, 1) as year_start,
        route_reports.reporting_period,
        route_reports.period_grain,
        route_reports.period_start,
        route_reports.period_end,
        route_reports.organisation_code,
        organisations.organisation_name,
        route_reports.origin_location_code as origin_code,
        origins.location_type as origin_type,
        origins.location_name as origin_name,
        origins.country_code as origin_country_code,
        origins.country_name as origin_country_name,
        origins.county_code as origin_county_code,
        origins.former_province as origin_former_province,
        route_reports.destination_location_code as destination_code,
        destinations.location_type as destination_type,
        destinations.location_name as destination_name,
        destinations.country_code as destination_country_code,
        destinations.country_name as destination_country_name,
        destinations.county_code as destination_county_code,
        destinations.former_province as destination_former_province,
        route_reports.route_key,
        routes.transit_codes,
        routes.transit_count,
        routes.route_label,
        routes.is_domestic,
        route_reports.exploitation_type_code as exploitation_type,
        exploitation_types.label_en as exploitation_type_label_en,
        exploitation_types.label_sw as exploitation_type_label_sw,
        route_reports.cases_estimated as cases,
        route_reports.female_cases,
        route_reports.male_cases,
        route_reports.child_cases

    from route_reports
    left join organisations
        on route_reports.organisation_code = organisations.organisation_code
    left join routes
        on route_reports.route_key = routes.route_key
    left join locations as origins
        on route_reports.origin_location_code = origins.location_code
    left join locations as destinations
        on route_reports.destination_location_code = destinations.location_code
    left join exploitation_types
        on route_reports.exploitation_type_code = exploitation_types.exploitation_type_code

)

select * from final
