-- The list cells of each route row in force, one row per distinct item (CONTRACT.md §8: a row counts
-- once for each distinct item it lists), keeping the order the organisation gave. Carriers imply the
-- transport mode `air`: the loader adds it, and it is added here again when missing.
-- A table: four bridges and their tests read it (as a view, each would explode every list again).
{{ config(materialized='table') }}

with

route_reports as (

    select * from {{ ref('int_route_reports_in_force') }}

),

lists as (

    select
        route_report_key,
        'transport_modes' as list_name,
        case
            when carriers is not null then concat_ws(';', transport_modes, 'air')
            else transport_modes
        end as list_value
    from route_reports

    union all

    select route_report_key, 'carriers' as list_name, carriers as list_value
    from route_reports

    union all

    select route_report_key, 'recruitment_methods' as list_name, recruitment_methods as list_value
    from route_reports

    union all

    select route_report_key, 'means_of_control' as list_name, means_of_control as list_value
    from route_reports

),

exploded as (

    select
        lists.route_report_key,
        lists.list_name,
        trim(items.item_code) as item_code,
        items.item_position

    from lists
    cross join lateral
        unnest(string_to_array(lists.list_value, ';')) with ordinality as items (item_code, item_position)
    where trim(items.item_code) <> ''

),

deduplicated as (

    select
        route_report_key,
        list_name,
        item_code,
        min(item_position) as first_position

    from exploded
    group by route_report_key, list_name, item_code

),

final as (

    select
        {{ surrogate_key(['route_report_key', 'list_name', 'item_code']) }} as route_report_list_item_key,
        route_report_key,
        list_name,
        item_code,
        cast(row_number() over (
            partition by route_report_key, list_name order by first_position
        ) as integer) as list_position,
        cast(count(*) over (partition by route_report_key, list_name) as integer) as list_item_count

    from deduplicated

)

select * from final
