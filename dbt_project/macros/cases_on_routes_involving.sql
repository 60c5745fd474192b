{#-
    A non-additive reporting table, "cases on routes involving X": per year and item, the cases of the route
    rows that involve the item, each row counted once per distinct item, so the cells of a year do not add up
    to the year's total and only primary suppression applies (suppress_small_cells without groups).

    bridge:      the bridge from a route row (or a route) to its items.
    route_key:   the bridge's column joined to fct_route_reports: route_report_key, or route_key for a
                 bridge of routes (transit points).
    dimension:   the dimension holding the items' names.
    code_column: the item's code, in the bridge and in the dimension.
    columns:     the published columns after report_year, in order, each mapped to its dimension column;
                 the first is the item's code and breaks ties between equal cells.
-#}
{% macro cases_on_routes_involving(bridge, dimension, code_column, columns, route_key='route_report_key') %}
{%- set names = columns.keys() | list %}
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

bridge as (

    select * from {{ ref(bridge) }}

),

codes as (

    select * from {{ ref(dimension) }}

),

-- A route may pass the same place twice: distinct items first, so each route row meets each item once.
route_items as (

    select distinct
        {{ route_key }},
        {{ code_column }}

    from bridge

),

cells as (

    select
        route_reports.report_year,
        {%- for name, column in columns.items() %}
        codes.{{ column }} as {{ name }},
        {%- endfor %}
        sum(route_reports.cases_estimated) as cell_cases

    from route_reports
    inner join route_items
        on route_reports.{{ route_key }} = route_items.{{ route_key }}
    inner join codes
        on route_items.{{ code_column }} = codes.{{ code_column }}
    group by {% for _ in range(names | length + 1) %}{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=[names[0]]) }}

),

final as (

    select
        report_year,
        {%- for name in names %}
        {{ name }},
        {%- endfor %}
        cast(cases as integer) as cases,
        suppressed

    from suppressed

)

select * from final
{% endmacro %}
