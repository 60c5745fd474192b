{#-
    The typed location code of an origin or destination (docs/contract.md §3): county:NNN when the country is
    Kenya and a county is given, else country:XX.
-#}
{% macro location_code(country_column, county_column) -%}
    case
        when {{ country_column }} = 'KE' and {{ county_column }} is not null
            then 'county:' || {{ county_column }}
        else 'country:' || {{ country_column }}
    end
{%- endmacro %}
