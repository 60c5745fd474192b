-- Per year and means of control: cases on routes involving it (non-additive) and allocated cases (additive).
{{ config(materialized='view') }}

{{ list_cases(
    'dim_means_of_control', 'means_of_control_code',
    {'means_of_control': 'means_of_control_code', 'label_en': 'label_en', 'label_sw': 'label_sw'},
    none_labels={'label_en': 'No means of control listed', 'label_sw': 'Hakuna njia ya kulazimisha iliyotajwa'},
    bridge='bridge_route_report_means_of_control', code_column='means_of_control_code',
) }}
