{#-
    A published count never lies in 1..k-1 (docs/contract.md §8), and a withheld cell is null exactly when the
    table says it is suppressed (when the table has a `suppressed` column).
-#}
{% test no_small_cells(model, column_name, suppressed_column=none) %}
{%- set k = njia_min_cell() %}
with published as (
    select * from {{ model }}
),
violations as (
    select *
    from published
    where {{ column_name }} between 1 and {{ k - 1 }}
    {%- if suppressed_column %}
        or ({{ suppressed_column }} and {{ column_name }} is not null)
        or (not {{ suppressed_column }} and {{ column_name }} is null)
        or {{ suppressed_column }} is null
    {%- endif %}
)
select * from violations
{% endtest %}
