-- Each additive reporting table adds up to the fact's total of the year (rows with a Kenyan county of
-- origin for the origin tables) wherever none of its cells is withheld, and never exceeds it otherwise;
-- coverage.cases_total equals the total wherever it is published. Returns the years that do not reconcile.
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

fact_totals as (

    select
        report_year,
        sum(cases_estimated) as all_cases,
        sum(cases_estimated) filter (where origin_location_code like 'county:%') as kenyan_origin_cases

    from route_reports
    group by report_year

),

{%- set additive = {
    'cases_by_origin_county': 'kenyan_origin_cases',
    'cases_by_province': 'kenyan_origin_cases',
    'cases_by_destination_country': 'all_cases',
    'cases_by_route': 'all_cases',
    'cases_by_exploitation_type': 'all_cases',
} %}

published as (

    {%- for table, total in additive.items() %}
    select
        '{{ table }}' as reporting_table,
        '{{ total }}' as total_kind,
        report_year,
        coalesce(sum(cases), 0) as published_cases,
        bool_or(suppressed) as any_withheld
    from {{ ref(table) }}
    group by report_year
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

    union all

    select
        'coverage' as reporting_table,
        'all_cases' as total_kind,
        report_year,
        coalesce(cases_total, 0) as published_cases,
        cases_total is null as any_withheld
    from {{ ref('coverage') }}

),

expected as (

    select
        tables.reporting_table,
        fact_totals.report_year,
        case tables.total_kind
            when 'all_cases' then fact_totals.all_cases
            else fact_totals.kenyan_origin_cases
        end as fact_cases

    from fact_totals
    cross join (
        select distinct reporting_table, total_kind from published
        union
        select 'coverage', 'all_cases'
        {%- for table, total in additive.items() %}
        union
        select '{{ table }}', '{{ total }}'
        {%- endfor %}
    ) as tables

),

compared as (

    select
        coalesce(published.reporting_table, expected.reporting_table) as reporting_table,
        coalesce(published.report_year, expected.report_year) as report_year,
        coalesce(published.published_cases, 0) as published_cases,
        coalesce(published.any_withheld, false) as any_withheld,
        coalesce(expected.fact_cases, 0) as fact_cases

    from published
    full outer join expected
        on published.reporting_table = expected.reporting_table
        and published.report_year = expected.report_year

),

final as (

    select * from compared
    where (not any_withheld and published_cases <> fact_cases)
        or published_cases > fact_cases

)

select * from final
