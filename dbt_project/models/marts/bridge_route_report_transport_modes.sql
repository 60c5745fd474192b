-- Non-additive: a route row lists several transport modes; each counts the row's cases once.
{{ config(post_hook="{{ primary_key_after_load('route_report_transport_mode_key') }}") }}

{{ list_bridge('transport_modes', item='transport_mode') }}
