-- Non-additive: a route row lists several means of control; each counts the row's cases once.
with

list_items as (

    select * from {{ ref('int_route_report_list_items_exploded') }}

),

final as (

    select
        route_report_list_item_key as route_report_means_of_control_key,
        route_report_key,
        item_code as means_of_control_code,
        list_position,
        cast(1.0 / list_item_count as numeric(12, 10)) as allocation_weight

    from list_items
    where list_name = 'means_of_control'

)

select * from final
