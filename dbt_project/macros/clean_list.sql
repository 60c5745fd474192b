{#-
    A list cell as stored in raw (';'-joined canonical codes) with its items trimmed and empty items dropped,
    order kept; null when nothing is left.
-#}
{% macro clean_list(column) -%}
    nullif(
        array_to_string(
            array(
                select trim(list_items.item)
                from unnest(string_to_array({{ column }}, ';')) with ordinality as list_items (item, item_position)
                where trim(list_items.item) <> ''
                order by list_items.item_position
            ),
            ';'
        ),
        ''
    )
{%- endmacro %}
