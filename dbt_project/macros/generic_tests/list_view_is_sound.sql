{#-
    A list view (macro list_cases), checked in one scan of the view: per year, the item's code is unique and
    not null, `cases` and `allocated_cases` are not null, and the allocated cases over every item and `(none)`
    add up to exactly the year's cases in fct_route_reports (numeric, no tolerance). Separate unique, not_null
    and sum tests each recomputed the view, the lists exploded and weighted over every fact row
    (docs/benchmarks.md). Returns the years that fail, with the counts that say why; a row of the view with
    no year, or a year of the fact the view lacks, fails too.
-#}
{% test list_view_is_sound(model, code_column) %}
with

per_year as (

    select
        report_year,
        count(*) as item_rows,
        count(distinct {{ code_column }}) as distinct_items,
        count(*) filter (
            where {{ code_column }} is null or cases is null or allocated_cases is null
        ) as rows_with_nulls,
        sum(allocated_cases) as allocated_cases

    from {{ model }}
    group by report_year

),

fact_totals as (

    select
        report_year,
        sum(cases_estimated) as fact_cases

    from {{ ref('fct_route_reports') }}
    group by report_year

),

final as (

    select
        per_year.report_year,
        fact_totals.report_year as fact_year,
        per_year.item_rows,
        per_year.distinct_items,
        per_year.rows_with_nulls,
        per_year.allocated_cases,
        fact_totals.fact_cases

    from per_year
    full outer join fact_totals
        on per_year.report_year = fact_totals.report_year
    where
        per_year.report_year is null
        or per_year.item_rows != per_year.distinct_items
        or per_year.rows_with_nulls > 0
        or per_year.allocated_cases is distinct from fact_totals.fact_cases

)

select * from final
{% endtest %}
