-- Per year and transit point: cases on routes through it (non-additive) and allocated cases (additive).
{{ config(materialized='view') }}

{{ list_cases(
    'dim_location', 'location_code', {'transit_code': 'location_code', 'transit_name': 'location_name'},
    none_labels={'transit_name': 'Direct route (no transit point)'},
    transit=true,
) }}
