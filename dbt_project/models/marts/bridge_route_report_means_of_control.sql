-- Non-additive: a route row lists several means of control; each counts the row's cases once.
{{ config(post_hook="{{ primary_key_after_load('route_report_means_of_control_key') }}") }}

{{ list_bridge('means_of_control', item='means_of_control') }}
