{#- The small-cell threshold k (docs/contract.md §8): var min_cell, else NJIA_MIN_CELL, else 11. -#}
{% macro njia_min_cell() -%}
    {%- set configured = var('min_cell', none) -%}
    {%- if configured is none or configured == '' -%}
        {%- set configured = env_var('NJIA_MIN_CELL', '11') -%}
    {%- endif -%}
    {%- set k = configured | int(-1) -%}
    {%- if k < 1 -%}
        {{ exceptions.raise_compiler_error("min_cell must be a whole number >= 1, got " ~ configured) }}
    {%- endif -%}
    {{ return(k) }}
{%- endmacro %}
