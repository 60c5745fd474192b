{#-
    A list cell as stored in raw (';'-joined canonical codes) with its items trimmed and empty items dropped,
    order kept; null when nothing is left. Splitting on ' *; *' after trimming the whole cell trims every
    item as trim() would (spaces only), without a subquery per row.
-#}
{% macro clean_list(column) -%}
    nullif(array_to_string(array_remove(regexp_split_to_array(trim({{ column }}), ' *; *'), ''), ';'), '')
{%- endmacro %}
