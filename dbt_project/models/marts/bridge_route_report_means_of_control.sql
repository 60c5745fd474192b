-- Non-additive: a route row lists several means of control; each counts the row's cases once.
-- depends_on: {{ ref('fct_route_reports') }}
-- depends_on: {{ ref('dim_means_of_control') }}
{{ config(post_hook=[
    "{{ primary_key_after_load('route_report_means_of_control_key') }}",
    "{{ foreign_key_after_load('bridge_means_of_control_route_report_fkey', 'route_report_key', 'fct_route_reports', 'route_report_key') }}",
    "{{ foreign_key_after_load('bridge_means_of_control_means_of_control_fkey', 'means_of_control_code', 'dim_means_of_control', 'means_of_control_code') }}",
]) }}

{{ list_bridge('means_of_control', item='means_of_control') }}
