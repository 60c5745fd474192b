{#-
    A list cell as stored in raw (';'-joined canonical codes) with its items trimmed and empty items dropped,
    order kept; null when nothing is left. Splitting on ' *; *' after trimming the whole cell trims every
    item as trim() would (spaces only), without a subquery per row; a cell with no space, no empty item and
    no separator at either end is already clean (the loader writes such cells) and skips the split.
-#}
{% macro clean_list(column) -%}
    case
        when {{ column }} <> '' and strpos({{ column }}, ' ') = 0 and strpos({{ column }}, ';;') = 0
            and left({{ column }}, 1) <> ';' and right({{ column }}, 1) <> ';'
            then {{ column }}
        else nullif(array_to_string(array_remove(regexp_split_to_array(trim({{ column }}), ' *; *'), ''), ';'), '')
    end
{%- endmacro %}
