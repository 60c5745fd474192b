-- Non-additive: "cases on routes involving X" per former province of the Kenyan origin county. A route row
-- counts once for each distinct recruitment method it lists; a cell is at most its province's cases. Primary
-- suppression.
{{ cases_per_year(
    'dim_recruitment_method', 'recruitment_method_code',
    {'recruitment_method': 'recruitment_method_code', 'label_en': 'label_en', 'label_sw': 'label_sw'},
    bridge='bridge_route_report_recruitment_methods',
    per_province=true,
) }}
