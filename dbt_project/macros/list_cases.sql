{#-
    An analyst's view of one list (carriers, recruitment methods, means of control, transit points): per year
    and item, `cases` on routes involving the item (what the reporting table counts, before suppression) and
    `allocated_cases`, each route row's cases shared out over its distinct items by exact_share, so that the
    allocated cases of a year add up to exactly the year's cases in the fact. Route rows that list no item are
    one row per year under the code `(none)`, so nothing falls out of that sum.

    dimension, dimension_code: the dimension naming the items and its code column.
    columns:     the item's columns after report_year and year_start, each mapped to its dimension column;
                 the first is the item's code. none_labels gives the other columns' values for `(none)`.
    bridge:      a list bridge (route_report_key, code_column, allocation_weight), or
    transit:     true for the transit points of each route (bridge_route_transit_points), shared by exact_share
                 over the route's distinct transit points.
-#}
{% macro list_cases(dimension, dimension_code, columns, none_labels, bridge=none, code_column=none, transit=false) %}
{%- set names = columns.keys() | list %}
with

route_reports as (

    select * from {{ ref('fct_route_reports') }}

),

codes as (

    select * from {{ ref(dimension) }}

),
{%- if transit %}

legs as (

    select * from {{ ref('bridge_route_transit_points') }}

),

-- A route may pass the same place twice: each distinct place once, ordered by its first passage.
route_places as (

    select
        route_key,
        location_code as item_code,
        row_number() over (partition by route_key order by min(transit_position)) as item_position,
        count(*) over (partition by route_key) as item_count

    from legs
    group by route_key, location_code

),

items as (

    select
        route_reports.route_report_key,
        route_places.item_code,
        {{ exact_share('route_places.item_position', 'route_places.item_count') }} as allocation_weight

    from route_reports
    inner join route_places
        on route_reports.route_key = route_places.route_key

),
{%- else %}

items as (

    select
        route_report_key,
        {{ code_column }} as item_code,
        allocation_weight

    from {{ ref(bridge) }}

),
{%- endif %}

involved as (

    select
        route_reports.report_year,
        items.item_code,
        route_reports.cases_estimated,
        route_reports.cases_estimated * items.allocation_weight as allocated

    from route_reports
    inner join items
        on route_reports.route_report_key = items.route_report_key

    union all

    select
        route_reports.report_year,
        cast(null as text) as item_code,
        route_reports.cases_estimated,
        route_reports.cases_estimated as allocated

    from route_reports
    where not exists (
        select 1 from items
        where items.route_report_key = route_reports.route_report_key
    )

),

per_item as (

    select
        report_year,
        item_code,
        sum(cases_estimated) as cases,
        sum(allocated) as allocated_cases

    from involved
    group by report_year, item_code

),

final as (

    select
        per_item.report_year,
        make_date(per_item.report_year, 1, 1) as year_start,
        {%- for name, column in columns.items() %}
        {%- if loop.first %}
        coalesce(per_item.item_code, '(none)') as {{ name }},
        {%- else %}
        case
            when per_item.item_code is null then '{{ none_labels[name] }}' else codes.{{ column }}
        end as {{ name }},
        {%- endif %}
        {%- endfor %}
        cast(per_item.cases as integer) as cases,
        cast(per_item.allocated_cases as numeric(28, 10)) as allocated_cases

    from per_item
    left join codes
        on per_item.item_code = codes.{{ dimension_code }}

)

select * from final
{% endmacro %}
