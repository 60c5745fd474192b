-- Non-additive: "cases on routes involving X". A route row counts once for each distinct recruitment method it
-- lists, so the cells of a year do not add up to the year's total; only primary suppression applies.
{{ cases_per_year(
    'dim_recruitment_method', 'recruitment_method_code',
    {'recruitment_method': 'recruitment_method_code', 'label_en': 'label_en', 'label_sw': 'label_sw'},
    bridge='bridge_route_report_recruitment_methods',
) }}
