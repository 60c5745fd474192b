-- Additive: cases of route rows in force whose origin is a Kenyan county, per year and former province.
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
        locations.former_province,
        sum(route_reports.cases_estimated) as cell_cases

    from route_reports
    inner join locations
        on route_reports.origin_location_code = locations.location_code
    where locations.location_type = 'county'
    group by 1, 2

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=['former_province'], groups=[['report_year']]) }}

),

final as (

    select
        report_year,
        former_province,
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
