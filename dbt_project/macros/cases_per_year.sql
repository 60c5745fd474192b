{#-
    A reporting table: cases per year and item, suppressed by suppress_small_cells.

    dimension:      the dimension naming the items, and dimension_code its code column.
    columns:        the published columns after report_year, in order, each mapped to its dimension column; the
                    first names the cell and breaks ties between equal cells.
    fact_column:    the fact's column holding the item's code: one item per route row, so the cells add up
                    (pass the groups whose totals are published), or
    bridge:         a bridge from a route row (route_key='route_report_key') or a route (route_key='route_key')
                    to its items, holding dimension_code too: "cases on routes involving X", a route row counted
                    once for each distinct item, so the cells add up to nothing and only primary suppression
                    applies (no groups).
    where:          a condition on `codes` (the dimension), e.g. only counties.
    per_province:   one cell per former province of the (Kenyan) origin county and item: the column
                    former_province comes first, and route rows starting abroad are left out (a regional section).
    groups:         suppress_small_cells' groups.
-#}
{% macro cases_per_year(dimension, dimension_code, columns, fact_column=none, bridge=none,
                        route_key='route_report_key', where=none, per_province=false, groups=[]) %}
{%- set names = (['former_province'] if per_province else []) + (columns.keys() | list) %}
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

codes as (

    select * from {{ ref(dimension) }}

),
{%- if per_province %}

origins as (

    select * from {{ ref('dim_location') }}
    where location_type = 'county'

),
{%- endif %}
{%- if bridge %}

bridge as (

    select * from {{ ref(bridge) }}

),

-- A route may pass the same place twice: distinct items first, so each route row meets each item once.
route_items as (

    select distinct
        {{ route_key }},
        {{ dimension_code }}

    from bridge

),
{%- endif %}

cells as (

    select
        route_reports.report_year,
        {%- if per_province %}
        origins.former_province,
        {%- endif %}
        {%- for name, column in columns.items() %}
        codes.{{ column }} as {{ name }},
        {%- endfor %}
        sum(route_reports.cases_estimated) as cell_cases

    from route_reports
    {%- if per_province %}
    inner join origins
        on route_reports.origin_location_code = origins.location_code
    {%- endif %}
    {%- if bridge %}
    inner join route_items
        on route_reports.{{ route_key }} = route_items.{{ route_key }}
    inner join codes
        on route_items.{{ dimension_code }} = codes.{{ dimension_code }}
    {%- else %}
    inner join codes
        on route_reports.{{ fact_column }} = codes.{{ dimension_code }}
    {%- endif %}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    group by {% for _ in range(names | length + 1) %}{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}

),

suppressed as (

    {{ suppress_small_cells('cells', tie_breakers=names[:2] if per_province else names[:1], groups=groups) }}

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
