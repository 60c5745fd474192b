-- Every distinct list cell of the route rows in force, exploded once: one row per distinct item, keeping
-- the order the organisation gave (docs/contract.md §8: a row counts once for each distinct item it lists).
-- Organisations repeat the same few lists on every row, so the bridges join each row to its cell's items
-- here instead of exploding millions of cells (that cost minutes at 1,000,000 rows).
{{ config(materialized='table') }}

with

route_reports as (

    select * from {{ ref('int_route_reports_in_force') }}

),

lists as (

    select
        'transport_modes' as list_name,
        transport_modes as list_value
    from route_reports

    union

    select
        'carriers' as list_name,
        carriers as list_value
    from route_reports

    union

    select
        'recruitment_methods' as list_name,
        recruitment_methods as list_value
    from route_reports

    union

    select
        'means_of_control' as list_name,
        means_of_control as list_value
    from route_reports

),

exploded as (

    select
        lists.list_name,
        lists.list_value,
        trim(items.item_code) as item_code,
        items.item_position

    from lists
    cross join
        lateral
        unnest(string_to_array(lists.list_value, ';')) with ordinality as items (item_code, item_position)
    where trim(items.item_code) <> ''

),

deduplicated as (

    select
        list_name,
        list_value,
        item_code,
        min(item_position) as first_position

    from exploded
    group by list_name, list_value, item_code

),

final as (

    select
        {{ surrogate_key(['list_name', 'list_value', 'item_code']) }} as list_value_item_key,
        list_name,
        list_value,
        item_code,
        cast(row_number() over (
            partition by list_name, list_value order by first_position
        ) as integer) as list_position,
        cast(count(*) over (partition by list_name, list_value) as integer) as list_item_count

    from deduplicated

)

select * from final
