-- Cases per year and exploitation type in the shape of the US Trafficking in Persons report (long form: one row
-- per type and breakdown). Three splits each add up to the type's cases (sex: female, male, not stated; origin;
-- destination); child cases are at most the type's cases. A breakdown without cases has no row, as in every
-- other table, so a secondary cell is never a zero.
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

types as (

    select * from {{ ref('dim_exploitation_type') }}

),

locations as (

    select * from {{ ref('dim_location') }}

),

per_type as (

    select
        route_reports.report_year,
        route_reports.exploitation_type_code,
        sum(coalesce(route_reports.female_cases, 0)) as female,
        sum(coalesce(route_reports.male_cases, 0)) as male,
        sum(
            route_reports.cases_estimated
            - coalesce(route_reports.female_cases, 0)
            - coalesce(route_reports.male_cases, 0)
        ) as sex_not_stated,
        sum(coalesce(route_reports.child_cases, 0)) as child,
        coalesce(sum(route_reports.cases_estimated) filter (where origins.location_type = 'county'), 0)
            as kenyan_origin,
        coalesce(sum(route_reports.cases_estimated) filter (where origins.location_type <> 'county'), 0)
            as foreign_origin,
        coalesce(sum(route_reports.cases_estimated) filter (where destinations.country_code = 'KE'), 0)
            as in_kenya,
        coalesce(sum(route_reports.cases_estimated) filter (where destinations.country_code <> 'KE'), 0)
            as abroad

    from route_reports
    inner join locations as origins
        on route_reports.origin_location_code = origins.location_code
    inner join locations as destinations
        on route_reports.destination_location_code = destinations.location_code
    group by 1, 2

),

cells as (

    select
        per_type.report_year,
        types.exploitation_type_code as exploitation_type,
        types.label_en,
        types.label_sw,
        breakdowns.breakdown,
        breakdowns.split,
        breakdowns.cell_cases

    from per_type
    inner join types
        on per_type.exploitation_type_code = types.exploitation_type_code
    cross join
        lateral (
            values
            ('female', 'sex', per_type.female),
            ('male', 'sex', per_type.male),
            ('sex_not_stated', 'sex', per_type.sex_not_stated),
            ('child', 'age', per_type.child),
            ('kenyan_origin', 'origin', per_type.kenyan_origin),
            ('foreign_origin', 'origin', per_type.foreign_origin),
            ('in_kenya', 'destination', per_type.in_kenya),
            ('abroad', 'destination', per_type.abroad)
        ) as breakdowns (breakdown, split, cell_cases)
    where breakdowns.cell_cases > 0

),

suppressed as (

    {{ suppress_small_cells(
        'cells',
        tie_breakers=['exploitation_type', 'breakdown'],
        groups=[['report_year', 'exploitation_type', 'split']],
    ) }}

),

final as (

    select
        report_year,
        exploitation_type,
        label_en,
        label_sw,
        breakdown,
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
