{#-
    The share of item `position` (1..n) among `item_count` (n) items, as numeric(12,10), such that the n shares
    add up to exactly 1: every item gets 1/n rounded to 10 decimal places, and the last item (position n) gets
    what is left, 1 - (n-1) * that. Multiplying a row's cases by its items' shares and summing gives the row's
    cases back exactly (numeric arithmetic), where plain 1/n would lose up to n * 5e-11 per row.
-#}
{% macro exact_share(position, item_count) -%}
    cast(
        case
            when {{ position }} < {{ item_count }} then round(1.0 / {{ item_count }}, 10)
            else 1 - ({{ item_count }} - 1) * round(1.0 / {{ item_count }}, 10)
        end
        as numeric(12, 10)
    )
{%- endmacro %}
