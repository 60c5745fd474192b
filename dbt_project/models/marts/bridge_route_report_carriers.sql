-- Non-additive: a route row lists several carriers; each counts the row's cases once.
{{ config(post_hook="{{ primary_key_after_load('route_report_carrier_key') }}") }}

{{ list_bridge('carriers', item='carrier') }}
