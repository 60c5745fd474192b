-- Per year and carrier: cases on routes involving it (non-additive) and allocated cases (additive).
{{ config(materialized='view') }}

{{ list_cases(
    'dim_carrier', 'carrier_code', {'carrier_code': 'carrier_code', 'carrier_name': 'carrier_name'},
    none_labels={'carrier_name': 'No carrier listed'},
    bridge='bridge_route_report_carriers', code_column='carrier_code',
) }}
