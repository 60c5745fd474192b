{#- md5 of the '-'-joined values, nulls as a marker: a stable text key from a natural composite key. -#}
{% macro surrogate_key(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as text), '_null_'){% if not loop.last %} || '-' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
