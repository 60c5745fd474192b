-- Non-additive: a route row lists several recruitment methods; each counts the row's cases once.
-- depends_on: {{ ref('fct_route_reports') }}
-- depends_on: {{ ref('dim_recruitment_method') }}
{{ config(post_hook=[
    "{{ primary_key_after_load('route_report_recruitment_method_key') }}",
    "{{ foreign_key_after_load('bridge_recruitment_methods_route_report_fkey', 'route_report_key', 'fct_route_reports', 'route_report_key') }}",
    "{{ foreign_key_after_load('bridge_recruitment_methods_recruitment_method_fkey', 'recruitment_method_code', 'dim_recruitment_method', 'recruitment_method_code') }}",
]) }}

{{ list_bridge('recruitment_methods', item='recruitment_method') }}
