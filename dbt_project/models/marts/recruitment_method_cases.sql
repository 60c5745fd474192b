-- Per year and recruitment method: cases on routes involving it (non-additive) and allocated cases (additive).
{{ config(materialized='view') }}

{{ list_cases(
    'dim_recruitment_method', 'recruitment_method_code',
    {'recruitment_method': 'recruitment_method_code', 'label_en': 'label_en', 'label_sw': 'label_sw'},
    none_labels={'label_en': 'No recruitment method listed', 'label_sw': 'Hakuna njia ya kuajiri iliyotajwa'},
    bridge='bridge_route_report_recruitment_methods', code_column='recruitment_method_code',
) }}
