{#-
    Schemas are the layer names of docs/interfaces.md §3.1 (staging, intermediate, marts, reporting), never prefixed
    with the target schema. During a build njia.transform passes var schema_suffix = "__build": everything
    lands in shadow schemas and is swapped into the published ones only when every test passed.
    Snapshots keep history across builds, so they never go to a shadow schema. var reporting_schema sends
    the reporting models to a private schema (njia.transform.reporting_schema with another k).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set layer = (custom_schema_name or target.schema) | trim -%}
    {%- if layer == 'snapshots' -%}
        {{ layer }}
    {%- elif layer == 'reporting' and var('reporting_schema', none) -%}
        {{ var('reporting_schema') | trim }}
    {%- else -%}
        {{ layer ~ (var('schema_suffix', '') or '') }}
    {%- endif -%}
{%- endmacro %}
