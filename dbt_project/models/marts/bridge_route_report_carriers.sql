-- Non-additive: a route row lists several carriers; each counts the row's cases once.
-- depends_on: {{ ref('fct_route_reports') }}
-- depends_on: {{ ref('dim_carrier') }}
{{ config(post_hook=[
    "{{ primary_key_after_load('route_report_carrier_key') }}",
    "{{ foreign_key_after_load('bridge_carriers_route_report_fkey', 'route_report_key', 'fct_route_reports', 'route_report_key') }}",
    "{{ foreign_key_after_load('bridge_carriers_carrier_fkey', 'carrier_code', 'dim_carrier', 'carrier_code') }}",
]) }}

{{ list_bridge('carriers', item='carrier') }}
