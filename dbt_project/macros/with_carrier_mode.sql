{#-
    A route row's `;`-joined transport modes, with the mode its carriers imply (var carriers_imply_transport_mode,
    docs/contract.md §2.3) added when the row lists carriers without it. The loader adds it already
    (ingest.contract.with_carrier_mode reads the same var); rows loaded otherwise get it here.
-#}
{% macro with_carrier_mode(transport_modes, carriers) -%}
{%- set mode = var('carriers_imply_transport_mode') -%}
case
    when {{ carriers }} is not null and not '{{ mode }}' = any(coalesce(string_to_array({{ transport_modes }}, ';'), '{}'))
        then concat_ws(';', {{ transport_modes }}, '{{ mode }}')
    else {{ transport_modes }}
end
{%- endmacro %}
