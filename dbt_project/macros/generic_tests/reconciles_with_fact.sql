{#-
    A reporting table against the fact (fct_route_reports), year by year. The model's `meta.adds_up_to`
    (_reporting__models.yml) names the fact's total its cells add up to: `all_cases`, or `kenyan_origin_cases`
    (route rows whose origin is a Kenyan county). Such a table adds up to that total wherever none of its cells
    is withheld, and never exceeds it otherwise. A table without it is non-additive ("cases on routes involving
    X"): none of its cells exceeds the year's total of all cases. Returns what does not reconcile.
    `cases_column` and `withheld` describe a one-row-per-year table such as coverage.
-#}
{% test reconciles_with_fact(model, cases_column='cases', withheld='suppressed') %}
{#- The graph (and so the model's meta) is only there when the test runs; refs are found at parse time. -#}
{%- set adds_up_to = none %}
{%- if execute %}
    {%- set adds_up_to = graph.nodes['model.' ~ project_name ~ '.' ~ model.identifier].config.meta.get('adds_up_to') %}
{%- endif %}
with

fact_totals as (

    select
        report_year,
        sum(cases_estimated) as all_cases,
        sum(cases_estimated) filter (where origin_location_code like 'county:%') as kenyan_origin_cases

    from {{ ref('fct_route_reports') }}
    group by report_year

),

{%- if adds_up_to %}

published as (

    select
        report_year,
        coalesce(sum({{ cases_column }}), 0) as published_cases,
        bool_or({{ withheld }}) as any_withheld

    from {{ model }}
    group by report_year

),

compared as (

    select
        coalesce(published.report_year, fact_totals.report_year) as report_year,
        coalesce(published.published_cases, 0) as published_cases,
        coalesce(published.any_withheld, false) as any_withheld,
        coalesce(fact_totals.{{ adds_up_to }}, 0) as fact_cases

    from published
    full outer join fact_totals
        on published.report_year = fact_totals.report_year

),

final as (

    select * from compared
    where (not any_withheld and published_cases <> fact_cases)
        or published_cases > fact_cases

)

{%- else %}

final as (

    select
        published.report_year,
        published.{{ cases_column }} as published_cases,
        coalesce(fact_totals.all_cases, 0) as fact_cases

    from {{ model }} as published
    left join fact_totals
        on published.report_year = fact_totals.report_year
    where published.{{ cases_column }} > coalesce(fact_totals.all_cases, 0)

)

{%- endif %}

select * from final
{% endtest %}
