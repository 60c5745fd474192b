{#- The grain of a table whose key is several columns: no two rows share the combination. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
with grouped as (
    select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)
select * from grouped
{% endtest %}
