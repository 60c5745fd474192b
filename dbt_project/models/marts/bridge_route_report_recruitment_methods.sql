-- Non-additive: a route row lists several recruitment methods; each counts the row's cases once.
{{ config(post_hook="{{ primary_key_after_load('route_report_recruitment_method_key') }}") }}

{{ list_bridge('recruitment_methods', item='recruitment_method') }}
