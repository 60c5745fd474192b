{#-
    Small-cell suppression, written once for every published table (docs/contract.md §8).

    cells:        name of a CTE (or relation) with one row per published cell and its raw count in `cell_cases`.
    tie_breakers: columns that order cells of equal count, so the choice of a secondary cell is deterministic.
    groups:       for additive tables, the groups whose totals are known (each a list of columns, e.g.
                  [['report_year']]). Primary suppression withholds counts 1..k-1. Then, for each group in turn,
                  where exactly one cell of the group is withheld, the smallest other cell of the group is
                  withheld too, so the withheld count cannot be derived from the group's total. Non-additive
                  tables pass no groups: their cells do not add up to any published total.
    min_cell:     k; defaults to njia_min_cell().

    Returns a select of every column of `cells` plus `cases` (null when withheld) and `suppressed`.

    Cells that can be worked out only by combining several tables (a route from a county's total, a transit
    point's) are withheld afterwards, across all reporting tables of a year, by njia.disclosure, called by
    njia.transform between this build and publication; its audit is the gate (docs/withheld-figures.md).
-#}
{% macro suppress_small_cells(cells, tie_breakers, groups=[], min_cell=none) -%}
    {%- set k = min_cell if min_cell is not none else njia_min_cell() -%}
    with suppression_pass_0 as (
        select
            cells.*,
            coalesce(cells.cell_cases between 1 and {{ k - 1 }}, false) as is_withheld_0
        from {{ cells }} as cells
    ),
    {%- for group in groups %}
    {%- set previous = 'is_withheld_' ~ (loop.index - 1) %}
    suppression_ranked_{{ loop.index }} as (
        select
            suppression_pass_{{ loop.index - 1 }}.*,
            count(*) filter (where {{ previous }}) over (
                partition by {{ group | join(', ') }}
            ) as withheld_in_group_{{ loop.index }},
            row_number() over (
                partition by {{ group | join(', ') }}, {{ previous }}
                order by cell_cases, {{ tie_breakers | join(', ') }}
            ) as rank_in_group_{{ loop.index }}
        from suppression_pass_{{ loop.index - 1 }}
    ),
    suppression_pass_{{ loop.index }} as (
        select
            suppression_ranked_{{ loop.index }}.*,
            {{ previous }} or (
                withheld_in_group_{{ loop.index }} = 1
                and not {{ previous }}
                and rank_in_group_{{ loop.index }} = 1
            ) as is_withheld_{{ loop.index }}
        from suppression_ranked_{{ loop.index }}
    ),
    {%- endfor %}
    {%- set last = 'is_withheld_' ~ (groups | length) %}
    suppression_final as (
        select
            suppression_pass_{{ groups | length }}.*,
            case when {{ last }} then null else cell_cases end as cases,
            {{ last }} as suppressed
        from suppression_pass_{{ groups | length }}
    )
    select * from suppression_final
{%- endmacro %}
