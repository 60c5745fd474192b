{#-
    A list view (macro list_cases) against the fact, year by year: its allocated cases, over every item and
    `(none)`, add up to exactly the year's cases in fct_route_reports (numeric, no tolerance). Returns the years
    that do not.
-#}
{% test allocated_cases_add_up(model) %}
with

fact_totals as (

    select
        report_year,
        sum(cases_estimated) as fact_cases

    from {{ ref('fct_route_reports') }}
    group by report_year

),

allocated as (

    select
        report_year,
        sum(allocated_cases) as allocated_cases

    from {{ model }}
    group by report_year

),

final as (

    select
        coalesce(allocated.report_year, fact_totals.report_year) as report_year,
        allocated.allocated_cases,
        fact_totals.fact_cases

    from allocated
    full outer join fact_totals
        on allocated.report_year = fact_totals.report_year
    where allocated.allocated_cases is distinct from fact_totals.fact_cases

)

select * from final
{% endtest %}
