-- Non-additive: "cases on routes involving X". A route row counts once for each distinct means of control it
-- lists, so the cells of a year do not add up to the year's total; only primary suppression applies.
{{ cases_per_year(
    'dim_means_of_control', 'means_of_control_code',
    {'means_of_control': 'means_of_control_code', 'label_en': 'label_en', 'label_sw': 'label_sw'},
    bridge='bridge_route_report_means_of_control',
) }}
