{#- The grain of a canonical reporting period (docs/contract.md §5): year (YYYY), quarter (YYYY-Qn) or month (YYYY-MM). -#}
{% macro period_grain(reporting_period) -%}
    case
        when {{ reporting_period }} ~ '^[0-9]{4}$' then 'year'
        when {{ reporting_period }} ~ '^[0-9]{4}-Q[1-4]$' then 'quarter'
        when {{ reporting_period }} ~ '^[0-9]{4}-[0-9]{2}$' then 'month'
        else 'other'
    end
{%- endmacro %}
