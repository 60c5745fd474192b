{#-
    A bridge from each route row in force to the distinct items of one of its lists (int_list_values_exploded).

    list_name: the list column of the route row (carriers, recruitment_methods, ...), also its list_name.
    item:      the item's name in the singular (carrier, recruitment_method, ...): the bridge's key is
               route_report_<item>_key and the item's code <item>_code.

    Non-additive: a row lists several items and each carries the row's full cases; allocation_weight
    (exact_share: 1/n, the last item taking the rounding remainder) shares them out, adding up to exactly 1.
-#}
{% macro list_bridge(list_name, item) %}
with

route_reports as (

    select * from {{ ref('int_route_reports_in_force') }}

),

list_items as (

    select * from {{ ref('int_list_values_exploded') }}

),

final as (

    select
        {{ surrogate_key(['route_reports.route_report_key', "'" ~ list_name ~ "'", 'list_items.item_code']) }}
            as route_report_{{ item }}_key,
        route_reports.route_report_key,
        list_items.item_code as {{ item }}_code,
        list_items.list_position,
        {{ exact_share('list_items.list_position', 'list_items.list_item_count') }} as allocation_weight

    from route_reports
    inner join list_items
        on list_items.list_name = '{{ list_name }}'
        and route_reports.{{ list_name }} = list_items.list_value

)

select * from final
{% endmacro %}
