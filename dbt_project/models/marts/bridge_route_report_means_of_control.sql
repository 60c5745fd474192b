-- Non-additive: a route row lists several means of control; each counts the row's cases once.
{{ config(post_hook="{{ primary_key_after_load('route_report_means_of_control_key') }}") }}

with

route_reports as (

    select * from {{ ref('int_route_reports_in_force') }}

),

list_items as (

    select * from {{ ref('int_list_values_exploded') }}

),

final as (

    select
        {{ surrogate_key(['route_reports.route_report_key', "'means_of_control'", 'list_items.item_code']) }}
            as route_report_means_of_control_key,
        route_reports.route_report_key,
        list_items.item_code as means_of_control_code,
        list_items.list_position,
        cast(1.0 / list_items.list_item_count as numeric(12, 10)) as allocation_weight

    from route_reports
    inner join list_items
        on list_items.list_name = 'means_of_control'
        and route_reports.means_of_control = list_items.list_value

)

select * from final
