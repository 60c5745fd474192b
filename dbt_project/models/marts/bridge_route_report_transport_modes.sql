-- Non-additive: a route row lists several transport modes; each counts the row's cases once.
-- depends_on: {{ ref('fct_route_reports') }}
-- depends_on: {{ ref('dim_transport_mode') }}
{{ config(post_hook=[
    "{{ primary_key_after_load('route_report_transport_mode_key') }}",
    "{{ foreign_key_after_load('bridge_transport_modes_route_report_fkey', 'route_report_key', 'fct_route_reports', 'route_report_key') }}",
    "{{ foreign_key_after_load('bridge_transport_modes_transport_mode_fkey', 'transport_mode_code', 'dim_transport_mode', 'transport_mode_code') }}",
]) }}

{{ list_bridge('transport_modes', item='transport_mode') }}
