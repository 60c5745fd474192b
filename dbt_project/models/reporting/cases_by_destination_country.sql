-- Additive: cases of route rows in force per year and destination country (KE: trafficking inside Kenya).
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

locations as (

    select * from {{ ref('dim_location') }}

),

cells as (

    select
        route_reports.report_year,
        locations.country_code,
        locations.country_name,
        sum(route_reports.cases_estimated) as cell_cases

    from route_reports
    inner join locations
        on route_reports.destination_location_code = locations.location_code
    group by 1, 2, 3

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=['country_code'], groups=[['report_year']]) }}

),

final as (

    select
        report_year,
        country_code,
        country_name,
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
